/**
 * The kubeconfig path, one way down: options → read from the VM (agent or SSH, --wait) → kubeconfig
 * schema → rewrite the server → verify the address over TLS (tls-server-name when needed) → atomic
 * write. Nothing is written unless every step before the write succeeded.
 */
import { QksError } from '../errors.js';
import type { TransportInfo } from '../agent/transport.js';
import { fetchViaAgent, fetchViaSsh, withWait, type Fetched, type OpenAgent, type ReadMethod } from './fetch.js';
import type { KubeconfigOptions } from './options.js';
import { applyClusterEdits, isLoopbackHost, parseServerUrl, serverEdits, type ClusterEdit, type ServerChange } from './rewrite.js';
import { MAX_KUBECONFIG_BYTES, parseKubeconfig } from './schema.js';
import { verifyCluster, type TlsResult } from './tls.js';
import { defaultOutputDir, expandHome, outputPathFor, writeKubeconfig } from './write.js';

/** Library callers get these events; the CLI turns them into --verbose lines and progress. */
export interface KubeconfigEvents {
  info?(message: string): void;
  verbose?(message: string): void;
  warn?(message: string): void;
  progress?(message: string): void;
}

export interface KubeconfigResult {
  vm: string;
  /** The file written, or '-' for stdout. */
  path: string;
  /** The server address of the (first) cluster as written. */
  server: string;
  servers: ServerChange[];
  method: ReadMethod;
  transport?: TransportInfo;
  agentVersion?: string;
  bytes: number;
  elapsedMs: number;
  tls: TlsResult;
}

export interface GetKubeconfigDeps {
  /** The agent connector (src/agent/connect.ts openAgent). */
  openAgent: OpenAgent;
  signal?: AbortSignal;
  events?: KubeconfigEvents;
  env?: NodeJS.ProcessEnv;
  /** Writes '-' output (stdout); the CLI passes its raw output. */
  stdout?: (text: string) => void;
  maxBytes?: number;
  tlsTimeoutMs?: number;
}

/** Where one VM's kubeconfig goes: --output, else <--output-dir or ~/.kube>/<vm>. */
export function outputFor(o: KubeconfigOptions, vm: string, env: NodeJS.ProcessEnv): string {
  if (o.output !== undefined) return o.output === '-' ? '-' : expandHome(o.output, env);
  const path = outputPathFor(expandHome(o.outputDir ?? defaultOutputDir(env), env), vm);
  // a VM named "config" would land on the user's main kubeconfig: ask for an explicit path instead
  if (o.outputDir === undefined && vm === 'config') {
    throw new QksError('CONFIG_INVALID', `--output: the default path for VM "config" is ${path}, the main kubeconfig`, {
      hint: 'Pass --output FILE (or --output-dir DIR) explicitly.',
    });
  }
  return path;
}

/** Reads the bytes of one VM's kubeconfig, waiting if asked. */
export function readFromVm(o: KubeconfigOptions, vm: string, deps: GetKubeconfigDeps): Promise<Fetched> {
  const maxBytes = deps.maxBytes ?? MAX_KUBECONFIG_BYTES;
  const what = o.method === 'ssh' ? `${o.remotePath} on ${o.vmIp} over SSH` : `${o.remotePath} in VM ${vm} through the guest agent`;
  return withWait(
    (signal) =>
      o.method === 'ssh'
        ? fetchViaSsh(
            { host: o.vmIp!.replace(/^\[|\]$/g, ''), user: o.sshUser, key: o.sshKey, port: o.sshPort, options: o.sshOptions },
            o.remotePath,
            { maxBytes, signal },
          )
        : fetchViaAgent(
            deps.openAgent,
            {
              vmName: vm,
              libvirtUri: o.libvirtUri,
              transport: o.transport,
              ...(o.socket ? { socket: o.socket.replaceAll('{vm}', vm) } : {}),
            },
            o.remotePath,
            { maxBytes, signal },
          ),
    {
      wait: o.wait,
      timeoutMs: o.timeoutSec * 1000,
      what,
      signal: deps.signal,
      onProgress: (ms, last) => deps.events?.progress?.(`waiting for ${what}: ${Math.floor(ms / 1000)} s of ${o.timeoutSec} s (${last.code}: ${last.message})`),
    },
  );
}

/** Fetches, checks, rewrites, verifies and writes one VM's kubeconfig. */
export async function getKubeconfig(o: KubeconfigOptions, vm: string, deps: GetKubeconfigDeps): Promise<KubeconfigResult> {
  const started = performance.now();
  const env = deps.env ?? process.env;
  const path = outputFor(o, vm, env);
  const fetched = await readFromVm(o, vm, deps);
  deps.events?.verbose?.(
    `${vm}: read ${fetched.data.length} bytes by ${fetched.method}` +
      (fetched.transport ? ` over ${fetched.transport.kind} ${fetched.transport.socketPath ?? fetched.transport.uri ?? ''}`.trimEnd() : '') +
      (fetched.transport?.channel ? ` (channel ${fetched.transport.channel})` : '') +
      (fetched.agentVersion ? `, qemu-ga ${fetched.agentVersion}` : ''),
  );
  const parsed = parseKubeconfig(fetched.data, deps.maxBytes ?? MAX_KUBECONFIG_BYTES);

  const edits: ClusterEdit[] = [];
  let servers: ServerChange[];
  if (o.apiServer) {
    const r = serverEdits(parsed, o.apiServer);
    edits.push(...r.edits);
    servers = r.changes;
  } else {
    servers = parsed.config.clusters.map((c) => ({ cluster: c.name, from: c.cluster.server, to: c.cluster.server }));
    for (const s of servers) {
      const u = parseServerUrl(s.to);
      if (u && isLoopbackHost(u.host)) {
        deps.events?.warn?.(`${vm}: the server stays ${s.to}, which only works inside the VM; pass --api-server ADDRESS (or KUBECONFIG_API_ADDRESS) for clients elsewhere`);
      }
    }
  }

  // verify each cluster at its new address (normally one); the first result is reported
  const results: TlsResult[] = [];
  for (const [index, c] of parsed.config.clusters.entries()) {
    const server = servers[index]!.to;
    const res: TlsResult = o.verifyServer
      ? await verifyCluster({ ...c.cluster, server }, { rewritten: !!o.apiServer, timeoutMs: deps.tlsTimeoutMs, signal: deps.signal })
      : { verified: false, reason: 'skipped', detail: 'not checked (--no-verify-server)' };
    if (res.tlsServerName) edits.push({ index, key: 'tls-server-name', value: res.tlsServerName });
    results.push(res);
    if (res.reason === 'unreachable' || res.reason === 'handshake-failed' || res.reason === 'no-ca') deps.events?.warn?.(`${vm}: ${res.detail}`);
    else if (res.reason === 'tls-server-name-set') deps.events?.info?.(`${vm}: ${res.detail}`);
    else deps.events?.verbose?.(`${vm}: TLS ${res.reason}: ${res.detail}`);
  }

  const text = applyClusterEdits(parsed, edits);
  let bytes: number;
  if (path === '-') {
    if (!deps.stdout) throw new QksError('USAGE', '--output - needs a stdout to write to');
    deps.stdout(text);
    bytes = Buffer.byteLength(text);
  } else {
    bytes = await writeKubeconfig(path, text);
  }
  return {
    vm,
    path,
    server: servers[0]!.to,
    servers,
    method: fetched.method,
    ...(fetched.transport ? { transport: fetched.transport } : {}),
    ...(fetched.agentVersion ? { agentVersion: fetched.agentVersion } : {}),
    bytes,
    elapsedMs: Math.round(performance.now() - started),
    tls: results[0]!,
  };
}
