/**
 * `kubeconfig --ready`: past the file, wait until the API server answers with the kubeconfig's own
 * credentials. Stages, each timed: TLS (a handshake verified against the kubeconfig's
 * CA, with its tls-server-name), /readyz (200), node (`GET /api/v1/nodes` shows a node Ready). Plain
 * Node https over one keep-alive connection: no kubectl.
 *
 * What waiting can fix is retried until the deadline (nothing listens yet, 503, node NotReady); what it
 * cannot is said at once: no route to the address or a silent firewall (API_UNREACHABLE, with the fix),
 * a certificate from another CA (TLS_VERIFY_FAILED), credentials refused (API_AUTH_FAILED).
 */
import { Agent, request } from 'node:https';
import { abortError, isQksError, QksError } from '../errors.js';
import { sleep, startDeadline } from '../deadline.js';
import type { CancelSignal } from '../cancel.js';
import { TIMEOUTS } from '../timeouts.js';
import { apiAuthFailed, apiCertRejected, apiUnreachable, apiWaitTimeout, READY_STAGE_NAMES, readyEndpointInvalid } from './errors.js';
import { isIpAddress, parseServerUrl, serverPort } from './rewrite.js';
import type { Kubeconfig } from './schema.js';

/** Bounds of the readiness wait (ms; src/timeouts.ts) and the longest reply body read (a one-node list is a few KiB). */
export const READY_TIMEOUTS = { ...TIMEOUTS.ready, maxBodyBytes: 4 * 1024 * 1024 } as const;

export type ReadyStage = 'tls' | 'readyz' | 'node';
const STAGE_NAMES: Record<ReadyStage, string> = READY_STAGE_NAMES;

/** Where and how to reach the API server: everything from the kubeconfig, nothing from this host. */
export interface ApiEndpoint {
  server: string;
  host: string;
  port: number;
  /** The name the certificate is checked against: tls-server-name, else the host when it is a name. */
  servername?: string;
  ca?: string;
  cert?: string;
  key?: string;
  token?: string;
  /** The user entry whose credentials are used, for messages. */
  user: string;
}

const fromB64 = (s: unknown) => (typeof s === 'string' && s ? Buffer.from(s, 'base64').toString('utf8') : undefined);

/** The endpoint of the current context (else the first): its cluster's server and CA, its user's credentials. Pure. */
export function endpointFor(config: Kubeconfig): ApiEndpoint {
  const ctx = config.contexts.find((c) => c.name === config['current-context']) ?? config.contexts[0]!;
  const cluster = config.clusters.find((c) => c.name === ctx.context.cluster);
  if (!cluster) throw readyEndpointInvalid(`context "${ctx.name}" names cluster "${ctx.context.cluster}", which is not in clusters`);
  const user = config.users.find((u) => u.name === ctx.context.user);
  if (!user) throw readyEndpointInvalid(`context "${ctx.name}" names user "${ctx.context.user}", which is not in users`);
  const u = parseServerUrl(cluster.cluster.server);
  if (!u) throw readyEndpointInvalid(`cluster "${cluster.name}" has a server that is not a URL`);
  const c = cluster.cluster;
  const cred = (user.user ?? {}) as Record<string, unknown>;
  const tlsName = c['tls-server-name'];
  const servername = tlsName || (isIpAddress(u.host) ? undefined : u.host);
  const ca = fromB64(c['certificate-authority-data']);
  const cert = fromB64(cred['client-certificate-data']);
  const key = fromB64(cred['client-key-data']);
  const token = typeof cred.token === 'string' && cred.token ? cred.token : undefined;
  return {
    server: cluster.cluster.server,
    host: u.host,
    port: serverPort(u),
    ...(servername ? { servername } : {}),
    ...(ca ? { ca } : {}),
    ...(cert ? { cert } : {}),
    ...(key ? { key } : {}),
    ...(token ? { token } : {}),
    user: user.name,
  };
}

export interface ApiReply {
  status: number;
  body: string;
}

/** Connect errors that mean "not listening yet" (the API server comes up a little after the file). */
const NOT_YET = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ECONNABORTED', 'EAI_AGAIN']);
/** Errors that mean this host cannot reach that address at all: waiting will not help. */
const NO_ROUTE = new Set(['ENETUNREACH', 'EHOSTUNREACH', 'EADDRNOTAVAIL', 'ENOTFOUND', 'CONNECT_TIMEOUT']);
/** Node's codes for a server certificate that does not verify against the kubeconfig's CA or name. */
const CERT_BAD = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_SIGNATURE_FAILURE',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
]);

/** What the server said, made safe to print: printable ASCII, one line, short. */
export function summarise(body: string, max = 160): string {
  const failing = body
    .split('\n')
    .filter((l) => l.startsWith('[-]'))
    .map((l) => l.slice(3).split(' ')[0]);
  const text = failing.length ? `failing: ${failing.join(', ')}` : body.replace(/\s+/g, ' ').trim();
  // eslint-disable-next-line no-control-regex
  const clean = text.replace(/[^\x20-\x7e]/g, '?');
  return clean.length > max ? `${clean.slice(0, max)}...` : clean;
}

/**
 * One GET over `agent`. Resolves with any HTTP status; rejects with the socket/TLS error (code kept,
 * CONNECT_TIMEOUT when no TCP answer came within connectMs).
 */
export function apiGet(
  ep: ApiEndpoint,
  path: string,
  opts: { agent: Agent; signal: AbortSignal; connectMs?: number; requestMs?: number; maxBodyBytes?: number; onSecure?: () => void },
): Promise<ApiReply> {
  return new Promise((resolve, reject) => {
    const timers: NodeJS.Timeout[] = [];
    const fail = (code: string, message: string) => req.destroy(Object.assign(new Error(message), { code }));
    const req = request({
      host: ep.host,
      port: ep.port,
      path,
      method: 'GET',
      agent: opts.agent,
      ...(ep.servername ? { servername: ep.servername } : {}),
      ...(ep.ca ? { ca: ep.ca } : {}),
      ...(ep.cert ? { cert: ep.cert } : {}),
      ...(ep.key ? { key: ep.key } : {}),
      headers: { accept: 'application/json', ...(ep.token && !ep.cert ? { authorization: `Bearer ${ep.token}` } : {}) },
      signal: opts.signal,
    });
    const clear = () => timers.forEach(clearTimeout);
    timers.push(setTimeout(() => fail('REQUEST_TIMEOUT', `no reply within ${opts.requestMs ?? READY_TIMEOUTS.requestMs} ms`), opts.requestMs ?? READY_TIMEOUTS.requestMs));
    req.on('socket', (s) => {
      if (s.connecting) {
        const t = setTimeout(() => fail('CONNECT_TIMEOUT', `no TCP answer within ${Math.round((opts.connectMs ?? READY_TIMEOUTS.connectMs) / 1000)} s`), opts.connectMs ?? READY_TIMEOUTS.connectMs);
        timers.push(t);
        s.once('connect', () => clearTimeout(t));
        s.once('secureConnect', () => opts.onSecure?.());
      } else opts.onSecure?.(); // a kept-alive connection: already verified
    });
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size > (opts.maxBodyBytes ?? READY_TIMEOUTS.maxBodyBytes)) return fail('REPLY_TOO_LARGE', 'reply larger than the bound');
        chunks.push(c);
      });
      res.on('end', () => (clear(), resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') })));
      res.on('error', (e) => (clear(), reject(e)));
    });
    req.on('error', (e) => (clear(), reject(e)));
    req.end();
  });
}

/** The Ready node of a node list, or what it says instead (for progress). */
export function readyNode(body: string): { ready: string } | { waiting: string } {
  let list: unknown;
  try {
    list = JSON.parse(body);
  } catch {
    return { waiting: 'the node list is not JSON' };
  }
  const items = (list as { items?: unknown }).items;
  if (!Array.isArray(items) || items.length === 0) return { waiting: 'no node has registered yet' };
  const seen: string[] = [];
  for (const n of items as { metadata?: { name?: unknown }; status?: { conditions?: { type?: unknown; status?: unknown; reason?: unknown }[] } }[]) {
    const name = typeof n.metadata?.name === 'string' ? n.metadata.name : '?';
    const cond = n.status?.conditions?.find((c) => c.type === 'Ready');
    if (cond?.status === 'True') return { ready: name };
    seen.push(`${name} Ready=${typeof cond?.status === 'string' ? cond.status : 'unknown'}${typeof cond?.reason === 'string' ? ` (${cond.reason})` : ''}`);
  }
  return { waiting: summarise(seen.join(', ')) };
}

export interface ReadyResult {
  /** Milliseconds each stage took, from the end of the previous one. */
  stages: Record<ReadyStage, number>;
  /** The node found Ready. */
  node: string;
  /** HTTP requests made (polls included). */
  requests: number;
}

export interface ReadyOptions {
  /** The bound on the whole wait (the rest of --timeout). */
  timeoutMs: number;
  signal?: CancelSignal;
  /** A stage is done. */
  onStage?: (stage: ReadyStage, ms: number, detail: string) => void;
  /** Still waiting at `stage`: what was last seen. */
  onProgress?: (stage: ReadyStage, elapsedMs: number, last: string) => void;
  /** Added to the timeout's hint: why a refused connection may never end (e.g. a loopback server not rewritten). */
  refusedHint?: string;
  pollMs?: number;
  connectMs?: number;
  requestMs?: number;
}

/**
 * Waits until the API server at `ep` is ready and its node Ready. Throws WAIT_TIMEOUT naming the stage
 * at the bound; API_UNREACHABLE, TLS_VERIFY_FAILED or API_AUTH_FAILED at once.
 */
export async function waitUntilReady(ep: ApiEndpoint, opts: ReadyOptions): Promise<ReadyResult> {
  const started = performance.now();
  let stage: ReadyStage = 'tls';
  let last = 'no attempt yet';
  let lastRefused = false;
  const deadline = startDeadline(opts.timeoutMs, {
    signal: opts.signal,
    onTimeout: () => apiWaitTimeout(`${ep.host}:${ep.port}`, stage, last, opts.timeoutMs, lastRefused ? opts.refusedHint : undefined),
  });
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const stages: Partial<Record<ReadyStage, number>> = {};
  let mark = started;
  const done = (s: ReadyStage, detail: string) => {
    if (stages[s] !== undefined) return;
    const now = performance.now();
    stages[s] = Math.round(now - mark);
    mark = now;
    opts.onStage?.(s, stages[s]!, detail);
  };
  let requests = 0;
  const get = async (path: string): Promise<ApiReply | undefined> => {
    requests++;
    try {
      const r = await apiGet(ep, path, {
        agent,
        signal: deadline.signal,
        connectMs: opts.connectMs,
        requestMs: opts.requestMs,
        onSecure: () => done('tls', `verified against the kubeconfig's CA${ep.servername ? ` as ${ep.servername}` : ''}`),
      });
      done('tls', 'verified');
      if (r.status === 401 || r.status === 403) throw apiAuthFailed(ep, path, `${r.status} ${r.status === 401 ? 'Unauthorized' : 'Forbidden'}`);
      return r;
    } catch (e) {
      if (isQksError(e)) throw e;
      if (deadline.signal.aborted) throw deadline.signal.reason instanceof QksError ? deadline.signal.reason : abortError(deadline.signal);
      const err = e as NodeJS.ErrnoException;
      const code = err.code ?? 'ERROR';
      if (NO_ROUTE.has(code)) throw apiUnreachable(ep, code === 'CONNECT_TIMEOUT' ? err.message : code);
      if (CERT_BAD.has(code)) throw apiCertRejected(ep, code, err.message);
      // the server dropped the handshake over our client certificate
      if (/^ERR_SSL_.*ALERT_(BAD_CERTIFICATE|UNKNOWN_CA|CERTIFICATE_REQUIRED|CERTIFICATE_UNKNOWN)/.test(code)) throw apiAuthFailed(ep, path, `TLS alert ${code}`);
      lastRefused = code === 'ECONNREFUSED';
      last = NOT_YET.has(code) ? `nothing answers yet (${code})` : `${code}: ${err.message}`;
      return undefined;
    }
  };
  try {
    for (;;) {
      if (stage !== 'node') {
        const r = await get('/readyz');
        if (r?.status === 200) {
          done('readyz', 'answered 200');
          stage = 'node';
          continue;
        }
        if (r) {
          stage = 'readyz';
          last = `${r.status}${r.body ? ` ${summarise(r.body)}` : ''}`;
        }
      } else {
        const r = await get('/api/v1/nodes');
        if (r?.status === 200) {
          const n = readyNode(r.body);
          if ('ready' in n) {
            done('node', `node ${n.ready} is Ready`);
            return { stages: stages as Record<ReadyStage, number>, node: n.ready, requests };
          }
          last = n.waiting;
        } else if (r) last = `GET /api/v1/nodes: ${r.status} ${summarise(r.body)}`;
      }
      opts.onProgress?.(stage, performance.now() - started, last);
      await sleep(Math.min(opts.pollMs ?? READY_TIMEOUTS.pollMs, Math.max(1, deadline.remaining())), deadline.signal);
    }
  } finally {
    deadline.dispose();
    agent.destroy();
  }
}

/** Immediate refusal for a TLS check that got no TCP answer or no route (see get.ts --ready). */
export const NO_ROUTE_CODES: ReadonlySet<string> = NO_ROUTE;

export interface ReadyStepOptions {
  vm: string;
  /** The bound on the whole wait (what is left of --timeout). */
  timeoutMs: number;
  signal?: CancelSignal;
  /** Whether --api-server rewrote the server; a loopback server left as written is this host's own. */
  rewritten: boolean;
  events?: { info?(m: string): void; progress?(m: string): void };
}

/**
 * The --ready step of get.ts: the kubeconfig as it will be written → its endpoint → waitUntilReady, with
 * progress lines naming each stage.
 */
export async function waitForKubeconfigApi(config: Kubeconfig, opts: ReadyStepOptions): Promise<ReadyResult & { server: string }> {
  const ep = endpointFor(config);
  const ev = opts.events;
  ev?.info?.(`${opts.vm}: waiting up to ${Math.round(opts.timeoutMs / 1000)} s for the API server at ${ep.host}:${ep.port} (TLS, /readyz, node Ready)`);
  const loopback = /^(127\.|::1$|localhost)/i.test(ep.host);
  const r = await waitUntilReady(ep, {
    timeoutMs: opts.timeoutMs,
    signal: opts.signal,
    ...(loopback && !opts.rewritten ? { refusedHint: `The server was left as ${ep.server} (no --api-server): that is this host's own loopback, not the VM.` } : {}),
    onStage: (stage, ms, detail) => ev?.info?.(`${opts.vm}: ${STAGE_NAMES[stage]} ok after ${ms} ms (${detail})`),
    onProgress: (stage, ms, last) => ev?.progress?.(`waiting for ${STAGE_NAMES[stage]} at ${ep.host}:${ep.port}: ${Math.floor(ms / 1000)} s of ${Math.round(opts.timeoutMs / 1000)} s (${last})`),
  });
  return { ...r, server: ep.server };
}
