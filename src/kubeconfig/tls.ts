/**
 * Does the rewritten kubeconfig work from here? A TLS handshake to the server with the kubeconfig's own
 * CA answers it. Kubesolo's certificate covers only `kubernetes*`, localhost, 127.0.0.1, 10.43.0.1 and
 * the node's first-boot IPs (test/kubeconfig/builders.ts, KUBESOLO_SANS), so a NAT / load-balancer / DNS address is usually not in it:
 * then the cluster gets a `tls-server-name` the certificate does cover (kubectl >= 1.19 honours it).
 * Never `insecure-skip-tls-verify`.
 *
 * Policy (documented in --help): a certificate that does not chain to the kubeconfig's CA means the
 * address reaches some other server, and the kubeconfig could not work there: TLS_VERIFY_FAILED, nothing
 * written (--no-verify-server writes it anyway). An unreachable server (VM still booting, firewall, an
 * address only clients elsewhere can reach) is not proof of anything: the file is written, unverified,
 * with a warning.
 */
import { checkServerIdentity, connect, type PeerCertificate } from 'node:tls';
import { apiCertNamesNeither, apiCertNotFromCa } from './errors.js';
import { TIMEOUTS } from '../timeouts.js';
import type { KubeconfigCluster } from './schema.js';
import { isIpAddress, isLoopbackHost, parseServerUrl, serverPort } from './rewrite.js';
import type { CancelSignal } from '../cancel.js';

/** Bound on the whole handshake. A reachable API server answers in milliseconds. */
export const DEFAULT_TLS_TIMEOUT_MS = TIMEOUTS.apiTlsCheckMs;

export type TlsReason =
  /** The certificate covers the address: kubectl works as written. */
  | 'address-covered'
  /** The certificate covers the cluster's existing tls-server-name. */
  | 'server-name-covered'
  /** The address was not covered; tls-server-name now names a SAN that is. */
  | 'tls-server-name-set'
  /** Nothing answered (refused, unroutable, timeout): written unverified. */
  | 'unreachable'
  /** Something answered but the handshake failed (not TLS?): written unverified. */
  | 'handshake-failed'
  /** --no-verify-server. */
  | 'skipped'
  /** The server address was left as the guest wrote it (a loopback address: only the guest reaches it). */
  | 'not-rewritten'
  /** The kubeconfig's CA is a file path in the guest, which we cannot read. */
  | 'no-ca';

export interface TlsResult {
  verified: boolean;
  reason: TlsReason;
  /** The tls-server-name the cluster now carries, when this check set it. */
  tlsServerName?: string;
  /** One sentence for humans. */
  detail: string;
  /** For `unreachable`: the socket error code (CONNECT_TIMEOUT when no TCP answer came at all). */
  errno?: string;
}

export interface Handshake {
  /** The chain verified against the given CA. */
  authorized: boolean;
  authorizationError?: string;
  cert: PeerCertificate;
}

/** Connects, completes the TLS handshake, and hangs up. Rejects with the socket error (code kept). */
export function tlsHandshake(opts: { host: string; port: number; ca?: string; servername?: string; timeoutMs?: number; signal?: CancelSignal }): Promise<Handshake> {
  return new Promise((resolve, reject) => {
    const servername = opts.servername ?? (isIpAddress(opts.host) ? undefined : opts.host);
    const sock = connect({
      host: opts.host,
      port: opts.port,
      ...(opts.ca ? { ca: opts.ca } : {}),
      ...(servername ? { servername } : {}),
      // we judge the chain and the name ourselves: `authorized` must speak for the chain alone
      rejectUnauthorized: false,
      checkServerIdentity: () => undefined,
    });
    const done = (err?: Error, value?: Handshake) => {
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      sock.destroy();
      if (err) reject(err);
      else resolve(value!);
    };
    const onAbort = () => done(Object.assign(new Error('aborted'), { code: 'ABORT_ERR' }));
    // no TCP answer at all (a firewall dropping SYNs) is told apart from a server slow to handshake
    const timer = setTimeout(
      () => done(sock.connecting ? Object.assign(new Error('no TCP answer'), { code: 'CONNECT_TIMEOUT' }) : Object.assign(new Error('TLS handshake timed out'), { code: 'ETIMEDOUT' })),
      opts.timeoutMs ?? DEFAULT_TLS_TIMEOUT_MS,
    );
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    sock.once('secureConnect', () =>
      done(undefined, {
        authorized: sock.authorized,
        authorizationError: sock.authorizationError ? String(sock.authorizationError) : undefined,
        cert: sock.getPeerCertificate(),
      }),
    );
    sock.once('error', (e) => done(e));
  });
}

/** DNS names in the certificate's subjectAltName, in order. */
export function dnsSans(cert: PeerCertificate): string[] {
  return (cert.subjectaltname ?? '')
    .split(/,\s*/)
    .filter((s) => s.startsWith('DNS:'))
    .map((s) => s.slice(4));
}

/** True when `name` (host or IP) is covered by the certificate, by the same rules as node and Go. */
export function certCovers(name: string, cert: PeerCertificate): boolean {
  return checkServerIdentity(name, cert) === undefined;
}

/** A name the certificate covers for tls-server-name: `kubernetes` when there, else the first plain DNS SAN. */
export function chooseServerName(cert: PeerCertificate): string | undefined {
  const names = dnsSans(cert).filter((n) => !n.includes('*'));
  const pick = names.includes('kubernetes') ? 'kubernetes' : names[0];
  return pick !== undefined && certCovers(pick, cert) ? pick : undefined;
}

const UNREACHABLE = new Set(['CONNECT_TIMEOUT', 'ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN', 'ECONNRESET', 'EADDRNOTAVAIL', 'EPIPE']);

/**
 * Checks one cluster entry (server already rewritten). Returns what happened, with the tls-server-name
 * to set when one is needed; throws TLS_VERIFY_FAILED when the server's certificate is not from the
 * kubeconfig's CA.
 */
export async function verifyCluster(
  cluster: KubeconfigCluster,
  opts: { rewritten: boolean; timeoutMs?: number; signal?: CancelSignal; handshake?: typeof tlsHandshake } = { rewritten: true },
): Promise<TlsResult> {
  const u = parseServerUrl(cluster.server);
  if (!u) return { verified: false, reason: 'handshake-failed', detail: `server ${cluster.server} is not a URL` };
  if (!opts.rewritten && isLoopbackHost(u.host)) {
    return { verified: false, reason: 'not-rewritten', detail: `${cluster.server} is only reachable from inside the VM; pass --api-server ADDRESS` };
  }
  let ca: string | undefined;
  if (cluster['certificate-authority-data']) ca = Buffer.from(cluster['certificate-authority-data'], 'base64').toString('utf8');
  else if (cluster['certificate-authority']) {
    return { verified: false, reason: 'no-ca', detail: `the CA is a file in the guest (${cluster['certificate-authority']}); not verified` };
  }
  const port = serverPort(u);
  const existing = cluster['tls-server-name'];
  let hs: Handshake;
  try {
    hs = await (opts.handshake ?? tlsHandshake)({ host: u.host, port, ca, servername: existing, timeoutMs: opts.timeoutMs, signal: opts.signal });
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'ABORT_ERR') throw e;
    const why = err.code ?? err.message;
    if (err.code && UNREACHABLE.has(err.code)) {
      return { verified: false, reason: 'unreachable', errno: err.code, detail: `${u.host}:${port} did not answer (${why}); written unverified` };
    }
    return { verified: false, reason: 'handshake-failed', detail: `TLS handshake with ${u.host}:${port} failed (${err.message}); written unverified` };
  }
  if (!hs.authorized) {
    throw apiCertNotFromCa(u.host, port, hs.authorizationError);
  }
  if (existing && certCovers(existing, hs.cert)) {
    return { verified: true, reason: 'server-name-covered', detail: `certificate valid for tls-server-name ${existing}` };
  }
  // kubectl checks the certificate against tls-server-name when there is one, not the address: a
  // name the certificate does not cover must be replaced even when the address is covered
  if (!existing && certCovers(u.host, hs.cert)) {
    return { verified: true, reason: 'address-covered', detail: `certificate valid for ${u.host}` };
  }
  const name = chooseServerName(hs.cert) ?? (certCovers(u.host, hs.cert) ? u.host : undefined);
  if (!name) {
    throw apiCertNamesNeither(u.host, port, hs.cert.subjectaltname);
  }
  return {
    verified: true,
    reason: 'tls-server-name-set',
    tlsServerName: name,
    detail: existing
      ? `certificate does not cover the kubeconfig's tls-server-name ${existing}; set tls-server-name: ${name} (a name it covers), so kubectl verifies it`
      : `certificate does not cover ${u.host}; set tls-server-name: ${name} (a name it covers), so kubectl verifies it (or add the address at first boot: artifacts --api-address)`,
  };
}
