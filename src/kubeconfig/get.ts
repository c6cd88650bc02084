/**
 * The kubeconfig path, one way down: options → read from the VM (agent or SSH, --wait) → kubeconfig
 * schema → rewrite the server → verify the address over TLS (tls-server-name when needed) → atomic
 * write. Nothing is written unless every step before the write succeeded.
 */
import { openAgent } from '../agent/connect.js';
import { abortError } from '../errors.js';
import type { TransportInfo } from '../agent/transport.js';
import { fetchViaAgent, fetchViaSsh, withWait, type Fetched, type OpenAgent, type ReadMethod } from './fetch.js';
import { resolveKubeconfigOptions, type KubeconfigOptions } from './options.js';
import { isLoopbackHost, parseServerUrl, serverEdits, serverPort, type ClusterEdit, type ServerChange } from './rewrite.js';
import { monotonicMs, sleep, startDeadline } from '../deadline.js';
import type { CancelSignal } from '../cancel.js';
import { TIMEOUTS } from '../timeouts.js';
import { contextNameProblem, entriesOf } from './merge-entries.js';
import { apiNoAnswer, apiUnreachable, apiWaitTimeout, contextNameInvalid, noStdout, outputIsMainKubeconfig } from './errors.js';
import { NO_ROUTE_CODES, waitForKubeconfigApi, type ReadyResult } from './ready.js';
import { describeFinding, vetKubeconfig } from './safety.js';
import { editKubeconfig, readKubeconfig } from './document.js';
import { MAX_KUBECONFIG_BYTES, type ParsedKubeconfig } from './schema.js';
import { verifyCluster, type TlsResult } from './tls.js';
import { defaultOutputDir, expandHome, mergeTarget, outputPathFor, writeKubeconfig } from './write.js';

/** Library callers get these events; the CLI turns them into --verbose lines and progress. */
export interface KubeconfigEvents {
  info?(message: string): void;
  verbose?(message: string): void;
  warn?(message: string): void;
  progress?(message: string): void;
}

export interface KubeconfigResult {
  vm: string;
  /** The file written, '-' for stdout, or with --merge alone the kubeconfig merged into. */
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
  /** --ready: milliseconds each stage took (agent, file, TLS, /readyz, node), each from the end of the one before. */
  stages?: Partial<Record<'agent' | 'file' | 'tls' | 'readyz' | 'node', number>>;
  /** --ready: the node found Ready. */
  node?: string;
  /** --merge: where, under which name, what was replaced. */
  merged?: { path: string; context: string; backup?: string; replaced: { cluster: boolean; user: boolean; context: boolean }; currentContext: { from?: string; to?: string } };
}

export interface GetKubeconfigDeps {
  /** The agent connector. Default: src/agent/connect.ts openAgent with `env`. */
  openAgent?: OpenAgent;
  signal?: CancelSignal;
  events?: KubeconfigEvents;
  env?: NodeJS.ProcessEnv;
  /** Writes '-' output (stdout); the CLI passes its raw output. */
  stdout?: (text: string) => void;
  maxBytes?: number;
  tlsTimeoutMs?: number;
  /** Under --wait, how long an unreachable API server is waited for. Default API_GRACE_MS. */
  apiGraceMs?: number;
  /** --merge: how long to wait for another writer's `<file>.lock`. Default MERGE_LOCK.waitMs. */
  lockWaitMs?: number;
  /**
   * Write the file with blocking calls (src/files/atomic.ts AtomicWriteOptions.blocking): for a process
   * with this one VM to do, as the CLI is with one VM. Default false: other work runs on meanwhile.
   */
  blockingWrite?: boolean;
}

/** Under --wait, the longest wait for the API server to answer the TLS check once the kubeconfig is there (src/timeouts.ts). */
export const API_GRACE_MS = TIMEOUTS.apiGrace.waitMs;
/** Pause between TLS checks while waiting for the API server to listen. */
export const API_POLL_MS = TIMEOUTS.apiGrace.pollMs;

/** Where one VM's kubeconfig goes: --output, else <--output-dir or ~/.kube>/<vm>. */
export function outputFor(o: KubeconfigOptions, vm: string, env: NodeJS.ProcessEnv): string {
  if (o.output !== undefined) return o.output === '-' ? '-' : expandHome(o.output, env);
  const path = outputPathFor(expandHome(o.outputDir ?? defaultOutputDir(env), env), vm);
  // a VM named "config" would land on the user's main kubeconfig: ask for an explicit path instead
  if (o.outputDir === undefined && vm === 'config') {
    throw outputIsMainKubeconfig(path);
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
  const readOnce = (signal: CancelSignal): Promise<Fetched> =>
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
      return { ...fetched, parsed: await readKubeconfig(fetched.data, maxBytes) };
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
  const started = monotonicMs();
  const env = deps.env ?? process.env;
  const mergeFile = o.merge !== undefined && o.merge !== false ? mergeTarget(o.merge, env) : undefined;
  const contextName = o.context ?? vm;
  const bad = mergeFile !== undefined ? contextNameProblem(contextName) : undefined;
  if (bad) throw contextNameInvalid(contextName, bad);
  // with --merge, a file of its own only when asked for
  const path = mergeFile === undefined || o.output !== undefined || o.outputDir !== undefined ? outputFor(o, vm, env) : undefined;
  const ready = !!o.ready;
  // --ready times the agent stage: when the first agent connection came up
  let agentAt: number | undefined;
  const openAgentFn: OpenAgent = deps.openAgent ?? ((target, options) => openAgent(target, { env, ...options }));
  const fetched = await readFromVm(ready ? { ...o, wait: true } : o, vm, {
    ...deps,
    openAgent: async (target, options) => {
      const client = await openAgentFn(target, options);
      agentAt ??= monotonicMs();
      return client;
    },
  });
  const fileAt = monotonicMs();
  if (ready) {
    // --ready names every stage as it passes (the last three in ready.ts)
    if (agentAt !== undefined) deps.events?.info?.(`${vm}: agent ok after ${Math.round(agentAt - started)} ms`);
    deps.events?.info?.(`${vm}: file ok after ${Math.round(fileAt - (agentAt ?? started))} ms (${fetched.data.length} bytes by ${fetched.method})`);
  }
  deps.events?.verbose?.(
    `${vm}: read ${fetched.data.length} bytes by ${fetched.method}` +
      (fetched.transport ? ` over ${fetched.transport.kind} ${fetched.transport.socketPath ?? fetched.transport.uri ?? ''}`.trimEnd() : '') +
      (fetched.transport?.channel ? ` (channel ${fetched.transport.channel})` : '') +
      (fetched.agentVersion ? `, qemu-ga ${fetched.agentVersion}` : ''),
  );
  const { parsed } = fetched;
  // untrusted input from the guest, whatever the method: refused before anything is written or merged
  for (const f of vetKubeconfig(parsed.config, { allow: !!o.allowUnsafeKubeconfig })) {
    deps.events?.warn?.(`${vm}: --allow-unsafe-kubeconfig: keeping ${describeFinding(f)}`);
  }

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
    // bounded grace (an address only other networks reach must not cost the whole --timeout); --ready
    // waits for the API anyway, so it gets the whole rest of --timeout, but no route means "say so now"
    const u = parseServerUrl(server);
    const noRoute = (r: TlsResult) => ready && r.reason === 'unreachable' && !!r.errno && NO_ROUTE_CODES.has(r.errno);
    if (noRoute(res)) throw apiUnreachable({ host: u?.host ?? server, port: u ? serverPort(u) : 443 }, res.errno!);
    if (res.reason === 'unreachable' && (o.wait || ready)) {
      const left = Math.max(0, o.timeoutSec * 1000 - (monotonicMs() - started));
      const graceMs = ready ? left : Math.min(deps.apiGraceMs ?? API_GRACE_MS, left);
      deps.events?.info?.(`${vm}: waiting up to ${Math.round(graceMs / 1000)} s for the API server at ${server} to answer, to check its certificate`);
      const grace = startDeadline(graceMs, { signal: deps.signal, onTimeout: () => apiNoAnswer(server, graceMs) });
      try {
        while (res.reason === 'unreachable' && !grace.expired && !noRoute(res)) {
          await interruptible(sleep(Math.min(API_POLL_MS, grace.remaining()), deps.signal));
          res = await check();
        }
      } finally {
        grace.dispose();
      }
      if (noRoute(res)) throw apiUnreachable({ host: u?.host ?? server, port: u ? serverPort(u) : 443 }, res.errno!);
      if (ready && res.reason === 'unreachable') {
        throw apiWaitTimeout(server, 'tls', res.detail, o.timeoutSec * 1000);
      }
    }
    if (res.tlsServerName) edits.push({ index, key: 'tls-server-name', value: res.tlsServerName });
    results.push(res);
    if (res.reason === 'unreachable' || res.reason === 'handshake-failed' || res.reason === 'no-ca') deps.events?.warn?.(`${vm}: ${res.detail}`);
    else if (res.reason === 'tls-server-name-set') deps.events?.info?.(`${vm}: ${res.detail}`);
    else deps.events?.verbose?.(`${vm}: TLS ${res.reason}: ${res.detail}`);
  }

  const text = await editKubeconfig(parsed, edits);
  // --ready and --merge read the rewritten document: read once, and only for them
  const written = ready || mergeFile !== undefined ? (await readKubeconfig(text)).config : undefined;
  let readyResult: ReadyResult | undefined;
  const readyAt = monotonicMs();
  if (ready) {
    readyResult = await waitForKubeconfigApi(written!, {
      vm,
      timeoutMs: Math.max(1, o.timeoutSec * 1000 - (readyAt - started)),
      signal: deps.signal,
      rewritten: !!o.apiServer,
      events: deps.events,
    });
  }
  let bytes = 0;
  if (path === '-') {
    if (!deps.stdout) throw noStdout();
    deps.stdout(text);
    bytes = Buffer.byteLength(text);
  } else if (path !== undefined) {
    bytes = await writeKubeconfig(path, text, { blocking: !!deps.blockingWrite });
  }
  let merged: KubeconfigResult['merged'];
  if (mergeFile !== undefined) {
    // yaml's document model, which the merge edits, loads only here (./merge-file.ts)
    const { mergeIntoFile } = await import('./merge-file.js');
    const m = await mergeIntoFile(mergeFile, entriesOf(written!), { name: contextName, useContext: !!o.useContext, signal: deps.signal, lockWaitMs: deps.lockWaitMs });
    merged = { path: m.path, context: contextName, ...(m.backup ? { backup: m.backup } : {}), replaced: m.replaced, currentContext: m.currentContext };
    if (path === undefined) bytes = m.bytes;
  }
  return {
    vm,
    path: path ?? mergeFile!,
    server: servers[0]!.to,
    servers,
    method: fetched.method,
    ...(fetched.transport ? { transport: fetched.transport } : {}),
    ...(fetched.agentVersion ? { agentVersion: fetched.agentVersion } : {}),
    bytes,
    elapsedMs: Math.round(monotonicMs() - started),
    tls: results[0]!,
    ...(merged ? { merged } : {}),
    ...(readyResult
      ? {
          stages: {
            ...(agentAt !== undefined ? { agent: Math.round(agentAt - started) } : {}),
            file: Math.round(fileAt - (agentAt ?? started)),
            // the TLS stage covers the certificate check before the wait, too
            tls: Math.round(readyAt - fileAt) + readyResult.stages.tls,
            readyz: readyResult.stages.readyz,
            node: readyResult.stages.node,
          },
          node: readyResult.node,
        }
      : {}),
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
  /** Wait past the file until /readyz answers 200 and the node is Ready (implies wait). */
  ready?: boolean;
  /** Merge into this kubeconfig (`true`: $KUBECONFIG's first file, else ~/.kube/config). */
  merge?: string | boolean;
  /** Name of the merged cluster, user and context (default the VM name). */
  context?: string;
  /** Make the merged context current. */
  useContext?: boolean;
  /** Write a kubeconfig with exec plugins, file references... anyway. Default false. */
  allowUnsafeKubeconfig?: boolean;
}

/**
 * The library's front door: fetch one VM's kubeconfig as `qemu-kubesolo kubeconfig` does.
 * Throws QksError (see ERROR_CODES) on failure; nothing is written then.
 */
export async function fetchKubeconfig(
  input: FetchKubeconfigInput = {},
  ctx: { signal?: CancelSignal; env?: NodeJS.ProcessEnv; events?: KubeconfigEvents } = {},
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
