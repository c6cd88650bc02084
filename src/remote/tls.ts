/**
 * qemu+tls://host[:16514]/system: libvirtd's TLS listener, with libvirt's client PKI in libvirt's
 * places (libvirt kbase "tlscerts"): root `/etc/pki/CA/cacert.pem`, `/etc/pki/libvirt/clientcert.pem`,
 * `/etc/pki/libvirt/private/clientkey.pem`; other users `~/.pki/libvirt/{cacert,clientcert,clientkey}.pem`;
 * `?pkipath=DIR` for another directory. The server certificate must name the host unless `?no_verify=1`.
 * Then the same RPC as the local socket (src/agent/libvirt-rpc/).
 *
 * Our own files are checked before connecting (present, parseable, in date, issued by the CA, key
 * matching), so a wrong file is named as such rather than as a TLS alert from the far side.
 */
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { abortError, toQksError, type QksError } from '../errors.js';
import { LibvirtSession } from '../agent/libvirt-rpc/session.js';
import { startLibvirtConnection, type LibvirtConnection, type LibvirtTransport } from '../agent/libvirt-rpc/transport.js';
import { DEFAULT_TIMEOUTS } from '../agent/timeouts.js';
import { TIMEOUTS } from '../timeouts.js';
import type { AgentCandidate } from '../agent/transport.js';
import { uriParamsUnsupported } from '../libvirt/errors.js';
import { LIBVIRT_TLS_PORT, type LibvirtUri } from '../libvirt/uri.js';
import { tlsError } from './errors.js';
import type { CancelSignal } from '../cancel.js';

/** libvirt's tls-transport parameters we honour (libvirt's uri.html). */
export const TLS_URI_PARAMS = ['pkipath', 'no_verify', 'name'] as const;

export interface TlsPki {
  /** The directory the files were looked for in (for messages). */
  dir: string;
  ca: string;
  cert: string;
  key: string;
}

/** Where libvirt's client looks for its PKI, for this user (pure). */
export function pkiPaths(uri: LibvirtUri, who: { uid: number; home?: string | undefined }): TlsPki {
  const dir = uri.params.pkipath;
  if (dir) return { dir, ca: join(dir, 'cacert.pem'), cert: join(dir, 'clientcert.pem'), key: join(dir, 'clientkey.pem') };
  if (who.uid === 0 || !who.home) return { dir: '/etc/pki/libvirt', ca: '/etc/pki/CA/cacert.pem', cert: '/etc/pki/libvirt/clientcert.pem', key: '/etc/pki/libvirt/private/clientkey.pem' };
  const d = join(who.home, '.pki/libvirt');
  return { dir: d, ca: join(d, 'cacert.pem'), cert: join(d, 'clientcert.pem'), key: join(d, 'clientkey.pem') };
}

export interface TlsTarget {
  host: string;
  port: number;
  noVerify: boolean;
  /** The URI the daemon opens (`name=`, else qemu:///<mode>). */
  name: string;
  /** `host:port`, for messages and TransportInfo.via. */
  where: string;
}

export function tlsTarget(uri: LibvirtUri): TlsTarget {
  const unsupported = Object.keys(uri.params).filter((k) => !(TLS_URI_PARAMS as readonly string[]).includes(k));
  if (unsupported.length) {
    throw uriParamsUnsupported(uri.raw, unsupported, 'TLS', TLS_URI_PARAMS, 'Use qemu+tls://HOST[:PORT]/system[?pkipath=DIR][&no_verify=1].');
  }
  const host = uri.host!;
  const port = uri.port ?? LIBVIRT_TLS_PORT;
  const nv = uri.params.no_verify;
  return { host, port, noVerify: nv !== undefined && nv !== '0' && nv !== '', name: uri.params.name ?? `qemu:///${uri.mode}`, where: `${host.includes(':') ? `[${host}]` : host}:${port}` };
}

interface LoadedPki {
  ca: Buffer;
  cert: Buffer;
  key: Buffer;
}

/** Reads and checks the client PKI; throws TLS_VERIFY_FAILED naming the file and the fix. */
export function loadPki(p: TlsPki, now = new Date()): LoadedPki {
  const read = (which: string, path: string) => {
    try {
      return readFileSync(path);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') throw tlsError.missingFile(which, path, p.dir);
      throw tlsError.badFile(which, path, (e as Error).message);
    }
  };
  const ca = read('CA certificate', p.ca);
  const cert = read('client certificate', p.cert);
  const key = read('client key', p.key);
  let caX: X509Certificate;
  let certX: X509Certificate;
  try {
    caX = new X509Certificate(ca);
  } catch (e) {
    throw tlsError.badFile('CA certificate', p.ca, (e as Error).message);
  }
  try {
    certX = new X509Certificate(cert);
  } catch (e) {
    throw tlsError.badFile('client certificate', p.cert, (e as Error).message);
  }
  let keyObj;
  try {
    keyObj = createPrivateKey(key);
  } catch (e) {
    throw tlsError.badFile('client key', p.key, (e as Error).message);
  }
  if (new Date(certX.validTo) < now) throw tlsError.clientExpired(p.cert, certX.validTo);
  if (new Date(certX.validFrom) > now) throw tlsError.clientNotYetValid(p.cert, certX.validFrom);
  if (!certX.checkIssued(caX) || !certX.verify(caX.publicKey)) throw tlsError.clientNotFromCa(p.cert, p.ca);
  if (!certX.checkPrivateKey(keyObj)) throw tlsError.badFile('client key', p.key, `it does not belong to ${p.cert}`);
  return { ca, cert, key };
}

const UNTRUSTED = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'SELF_SIGNED_CERT_IN_CHAIN', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'CERT_SIGNATURE_FAILURE', 'CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID', 'CERT_UNTRUSTED', 'CERT_REJECTED',
]);

/** A failed TLS connect as the error that names the fix (pure). */
export function tlsConnectError(t: TlsTarget, ca: string, e: NodeJS.ErrnoException): QksError {
  const code = e.code ?? '';
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') return tlsError.serverName(t.where, t.host, e.message);
  if (UNTRUSTED.has(code)) return tlsError.serverUntrusted(t.where, `${code}: ${e.message}`, ca);
  if (/alert|handshake failure|bad certificate|unknown ca/i.test(e.message)) return tlsError.clientRefused(t.where, e.message);
  if (code === 'ECONNREFUSED' || code === 'EHOSTUNREACH' || code === 'ENETUNREACH') return tlsError.notListening(t.where, `${code}`);
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return tlsError.unresolved(t.where, t.host);
  if (code === 'ECONNRESET' || code === 'EPIPE') return tlsError.clientRefused(t.where, `${code} during the handshake`);
  return tlsError.failed(t.where, e);
}

function connectTls(t: TlsTarget, pki: LoadedPki, caPath: string, timeoutMs: number, signal?: CancelSignal): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(abortError(signal));
    const socket = tlsConnect({
      host: t.host,
      port: t.port,
      ca: pki.ca,
      cert: pki.cert,
      key: pki.key,
      ...(isIP(t.host) ? {} : { servername: t.host }),
      rejectUnauthorized: !t.noVerify,
      ...(t.noVerify ? { checkServerIdentity: () => undefined } : {}),
    });
    let settled = false;
    const done = (e?: QksError) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.off('readable', onReadable);
      socket.off('end', onEnd);
      signal?.removeEventListener('abort', onAbort);
      socket.off('error', onError);
      socket.off('secureConnect', onSecure);
      if (e) {
        socket.destroy();
        reject(e);
      } else resolve(socket);
    };
    // libvirtd checks our certificate after the handshake and then sends one byte: 1 = accepted
    // (libvirt src/rpc/virnettlscontext.c / virnetclient.c); anything else, or a close, is a refusal
    const onReadable = () => {
      const b = socket.read(1) as Buffer | null;
      if (b === null) return;
      if (b[0] === 1) done();
      else done(tlsError.clientRefused(t.where, `libvirtd answered ${b[0]} where 1 accepts the certificate`));
    };
    const onEnd = () => done(tlsError.clientRefused(t.where, 'libvirtd closed the connection after the handshake'));
    const onSecure = () => {
      socket.on('readable', onReadable);
      socket.once('end', onEnd);
    };
    const onError = (e: NodeJS.ErrnoException) => done(tlsConnectError(t, caPath, e));
    const onAbort = () => done(abortError(signal!));
    const timer = setTimeout(() => done(tlsError.timeout(t.where, timeoutMs)), timeoutMs);
    socket.once('secureConnect', onSecure);
    socket.once('error', onError);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

export interface LibvirtOverTlsOptions {
  timeoutMs?: number;
  commandTimeoutMs?: number;
  signal?: CancelSignal;
  env?: NodeJS.ProcessEnv;
  /** Default: this process's uid. */
  uid?: number;
}

/** An opened libvirtd session over TLS, for any number of domains (`lookup(name)` each). */
export async function connectLibvirtOverTls(uri: LibvirtUri, o: LibvirtOverTlsOptions = {}): Promise<LibvirtConnection> {
  const t = tlsTarget(uri);
  const env = o.env ?? process.env;
  const paths = pkiPaths(uri, { uid: o.uid ?? process.getuid?.() ?? -1, home: env.HOME });
  const pki = loadPki(paths);
  const timeoutMs = o.timeoutMs ?? DEFAULT_TIMEOUTS.connectMs + DEFAULT_TIMEOUTS.handshakeMs;
  const deadline = performance.now() + timeoutMs;
  const socket = await connectTls(t, pki, paths.ca, timeoutMs, o.signal);
  const session = LibvirtSession.over(socket, `libvirtd at ${t.where} (TLS)`);
  try {
    return await startLibvirtConnection(session, { uri: uri.raw, openUri: t.name, deadline, commandTimeoutMs: o.commandTimeoutMs, via: t.where });
  } catch (e) {
    const err = toQksError(e);
    // a refusal that comes after libvirtd's confirmation byte: an alert or a closed connection before the first reply
    const end = session.streamEnd;
    if (err.code === 'LIBVIRT_ERROR' && end && (end.kind === 'closed' || /alert|certificate|ECONNRESET/i.test(`${end.error.code ?? ''} ${end.error.message}`))) throw tlsError.clientRefused(t.where, err.message);
    throw err;
  }
}

/** libvirtd over TLS for one domain (its own session; close() ends it). */
export async function openLibvirtOverTls(uri: LibvirtUri, o: LibvirtOverTlsOptions & { domain: string }): Promise<LibvirtTransport> {
  const conn = await connectLibvirtOverTls(uri, o);
  try {
    return await conn.lookup(o.domain, { owns: true, ...(o.timeoutMs ? { timeoutMs: o.timeoutMs } : {}) });
  } catch (e) {
    await conn.close();
    throw e;
  }
}

/** doctor's TLS hop: PKI found and valid, handshake done, server certificate checked; throws what fails. */
export async function probeTls(uri: LibvirtUri, o: { env?: NodeJS.ProcessEnv; uid?: number; timeoutMs?: number; signal?: CancelSignal } = {}): Promise<{ where: string; pkiDir: string; protocol: string; server: string; verified: boolean; ms: number }> {
  const started = performance.now();
  const t = tlsTarget(uri);
  const env = o.env ?? process.env;
  const paths = pkiPaths(uri, { uid: o.uid ?? process.getuid?.() ?? -1, home: env.HOME });
  const socket = await connectTls(t, loadPki(paths), paths.ca, o.timeoutMs ?? DEFAULT_TIMEOUTS.connectMs + DEFAULT_TIMEOUTS.handshakeMs, o.signal);
  const peer = socket.getPeerCertificate();
  const r = { where: t.where, pkiDir: paths.dir, protocol: socket.getProtocol() ?? '?', server: peer?.subject?.CN ? `CN=${peer.subject.CN}` : 'unknown subject', verified: !t.noVerify, ms: Math.round(performance.now() - started) };
  socket.destroy();
  return r;
}

/** The openAgent candidate for a qemu+tls URI. */
export function tlsAgentCandidate(uri: LibvirtUri, vmName: string, env: NodeJS.ProcessEnv): AgentCandidate {
  const t = tlsTarget(uri);
  return {
    label: `libvirtd at ${t.where} (TLS)`,
    kind: 'libvirt',
    // the handshake bound is for a local socket; TLS adds a network round trip per step
    open: (o) => openLibvirtOverTls(uri, { domain: vmName, env, timeoutMs: o.handshakeTimeoutMs + DEFAULT_TIMEOUTS.connectMs + TIMEOUTS.libvirt.tlsExtraMs, ...(o.signal ? { signal: o.signal } : {}) }),
  };
}
