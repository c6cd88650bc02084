/**
 * The kubeconfig path, one way down: options → read from the VM (agent or SSH, --wait) → kubeconfig
 * schema → rewrite the server → verify the address over TLS (tls-server-name when needed) → atomic
 * write. Nothing is written unless every step before the write succeeded.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { openAgent } from '../agent/connect.js';
import { abortError, QksError } from '../errors.js';
import type { TransportInfo } from '../agent/transport.js';
import { fetchViaAgent, fetchViaSsh, withWait, type Fetched, type OpenAgent, type ReadMethod } from './fetch.js';
import { resolveKubeconfigOptions, type KubeconfigOptions } from './options.js';
import { applyClusterEdits, isLoopbackHost, parseServerUrl, serverEdits, type ClusterEdit, type ServerChange } from './rewrite.js';
import { MAX_KUBECONFIG_BYTES, parseKubeconfig, type ParsedKubeconfig } from './schema.js';
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
  /** The agent connector. Default: src/agent/connect.ts openAgent with `env`. */
  openAgent?: OpenAgent;
  signal?: AbortSignal;
  events?: KubeconfigEvents;
  env?: NodeJS.ProcessEnv;
  /** Writes '-' output (stdout); the CLI passes its raw output. */
  stdout?: (text: string) => void;
  maxBytes?: number;
  tlsTimeoutMs?: number;
  /** Under --wait, how long an unreachable API server is waited for. Default API_GRACE_MS. */
  apiGraceMs?: number;
}

/** Under --wait, the longest wait for the API server to answer the TLS check once the kubeconfig is there. */
export const API_GRACE_MS = 30_000;

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

/**
 * Reads and parses one VM's kubeconfig, waiting if asked. The parse is part of each attempt: an empty
 * file (Kubesolo still writing it) is a retryable KUBECONFIG_INVALID that --wait must see.
 */
export function readFromVm(o: KubeconfigOptions, vm: string, deps: GetKubeconfigDeps): Promise<Fetched & { parsed: ParsedKubeconfig }> {
  const maxBytes = deps.maxBytes ?? MAX_KUBECONFIG_BYTES;
  let announced = false;
  const what = o.method === 'ssh' ? `${o.remotePath} on ${o.vmIp} over SSH` : `${o.remotePath} in VM ${vm} through the guest agent`;
  const readOnce = (signal: AbortSignal): Promise<Fetched> =>
    o.method === 'ssh'
      ? fetchViaSsh(
          { host: o.vmIp!.replace(/^\[|\]$/g, ''), user: o.sshUser, key: o.sshKey && expandHome(o.sshKey, deps.env ?? process.env), port: o.sshPort, options: o.sshOptions },
          o.remotePath,
          { maxBytes, signal },
        )
      : fetchViaAgent(
          deps.openAgent ?? ((target, options) => openAgent(target, { env: deps.env ?? process.env, ...options })),
          {
            vmName: vm,
            libvirtUri: o.libvirtUri,
            transport: o.transport,
            ...(o.socket ? { socket: o.socket.replaceAll('{vm}', vm) } : {}),
          },
          o.remotePath,
          { maxBytes, signal },
        );
  return withWait(
    async (signal) => {
      const fetched = await readOnce(signal);
      return { ...fetched, parsed: parseKubeconfig(fetched.data, maxBytes) };
    },
    {
      wait: o.wait,
      timeoutMs: o.timeoutSec * 1000,
      what,
      signal: deps.signal,
      onProgress: (ms, last) => {
        // one line for logs and pipes; then a live status line on a TTY
        if (!announced) deps.events?.info?.(`${vm}: waiting up to ${o.timeoutSec} s for ${what} (${last.code})`);
        announced = true;
        deps.events?.progress?.(`waiting for ${what}: ${Math.floor(ms / 1000)} s of ${o.timeoutSec} s (${last.code}: ${last.message})`);
      },
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
  const { parsed } = fetched;

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
    // an abort surfaces as INTERRUPTED (a QksError) for library callers too, not as a bare AbortError
    const interruptible = <T>(p: Promise<T>) => p.catch((e: unknown) => Promise.reject(deps.signal?.aborted ? abortError(deps.signal) : e));
    const check = () => interruptible(verifyCluster({ ...c.cluster, server }, { rewritten: !!o.apiServer, timeoutMs: deps.tlsTimeoutMs, signal: deps.signal }));
    let res: TlsResult = o.verifyServer ? await check() : { verified: false, reason: 'skipped', detail: 'not checked (--no-verify-server)' };
    // Kubesolo writes the kubeconfig a little before its API server listens: under --wait, give it a
    // bounded grace (an address only other networks reach must not cost the whole --timeout)
    if (res.reason === 'unreachable' && o.wait) {
      const graceMs = Math.min(deps.apiGraceMs ?? API_GRACE_MS, Math.max(0, o.timeoutSec * 1000 - (performance.now() - started)));
      const until = performance.now() + graceMs;
      deps.events?.info?.(`${vm}: waiting up to ${Math.round(graceMs / 1000)} s for the API server at ${server} to answer, to check its certificate`);
      while (res.reason === 'unreachable' && performance.now() < until) {
        await interruptible(sleep(500, undefined, deps.signal ? { signal: deps.signal } : undefined));
        res = await check();
      }
    }
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

/** What library callers pass: the CLI's options, typed. Unset fields come from the environment, then defaults. */
export interface FetchKubeconfigInput {
  vmName?: string;
  method?: 'guest-agent' | 'ssh';
  /** Address clients use for the API server (default KUBECONFIG_API_ADDRESS). */
  apiServer?: string;
  /** File to write (default ~/.kube/<vmName>); `false`: write nothing and return the text as `kubeconfig`. */
  output?: string | false;
  wait?: boolean;
  /** Bound on `wait`, seconds. Default 300. */
  timeoutSec?: number;
  socket?: string;
  remotePath?: string;
  transport?: 'auto' | 'direct' | 'libvirt';
  libvirtUri?: string;
  vmIp?: string;
  sshUser?: string;
  sshKey?: string;
  sshPort?: number;
  sshOptions?: string[];
  /** TLS check of the new address (default true). */
  verifyServer?: boolean;
}

/**
 * The library's front door: fetch one VM's kubeconfig as `qemu-kubesolo kubeconfig` does.
 * Throws QksError (see ERROR_CODES) on failure; nothing is written then.
 */
export async function fetchKubeconfig(
  input: FetchKubeconfigInput = {},
  ctx: { signal?: AbortSignal; env?: NodeJS.ProcessEnv; events?: KubeconfigEvents } = {},
): Promise<KubeconfigResult & { kubeconfig?: string }> {
  const env = ctx.env ?? process.env;
  const o = resolveKubeconfigOptions(
    {
      ...(input.vmName !== undefined ? { vmNames: [input.vmName] } : {}),
      ...input,
      output: input.output === false ? '-' : input.output,
    },
    env,
  );
  let text: string | undefined;
  const result = await getKubeconfig(o, o.vmNames[0]!, { env, signal: ctx.signal, events: ctx.events, stdout: (t) => (text = t) });
  return text === undefined ? result : { ...result, kubeconfig: text };
}
