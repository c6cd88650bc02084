/**
 * libvirt connection URIs, as libvirt documents them:
 *   driver[+transport]://[user@][host][:port]/path[?param=value&...]
 * e.g. qemu:///system, qemu:///session, qemu+ssh://root@hv1:2222/system?keyfile=/k&socket=/run/x,
 * qemu+tls://hv1/system?pkipath=/etc/qks/pki (a host without a transport means TLS, as in libvirt).
 */
import { uriInvalid } from './errors.js';

export const DEFAULT_LIBVIRT_URI = 'qemu:///system';
export const SUPPORTED_TRANSPORTS = ['unix', 'ssh', 'tls'] as const;
/** libvirtd's TLS port. */
export const LIBVIRT_TLS_PORT = 16514;
export type LibvirtTransport = (typeof SUPPORTED_TRANSPORTS)[number];

export interface LibvirtUri {
  /** The URI as given. */
  raw: string;
  driver: 'qemu';
  /** `unix` for local URIs (no `+transport`), `ssh` for qemu+ssh, `tls` for qemu+tls (and qemu://host). */
  transport: LibvirtTransport;
  user?: string;
  host?: string;
  port?: number;
  /** `system` or `session`. */
  mode: 'system' | 'session';
  /** Query parameters (keyfile, socket, no_verify, ...), decoded. */
  params: Record<string, string>;
}

const URI_RE = /^([a-z][a-z0-9]*)(?:\+([a-z0-9]+))?:\/\/(?:([^@/?#]*)@)?(\[[^\]]*\]|[^:/?#]*)(?::(\d*))?(\/[^?#]*)?(?:\?([^#]*))?$/i;

export function parseLibvirtUri(raw: string): LibvirtUri {
  const bad = (why: string, hint?: string) => uriInvalid(raw, why, hint);
  const m = URI_RE.exec(raw.trim());
  if (!m) throw bad('not a libvirt URI');
  const [, driver, transport, user, hostPart, portPart, path, query] = m;
  if (driver!.toLowerCase() !== 'qemu') throw bad(`driver "${driver}" is not supported (only qemu)`);
  const t = (transport ?? '').toLowerCase();
  const host = hostPart ? hostPart.replace(/^\[|\]$/g, '') : undefined;
  let kind: LibvirtTransport;
  if (t === 'unix' || (t === '' && !host)) {
    if (host) throw bad('a unix URI has no host', 'Write qemu:///system here, or qemu+ssh://' + host + '/system for a remote hypervisor.');
    kind = 'unix';
  } else if (t === 'ssh') {
    if (!host) throw bad('qemu+ssh needs a host');
    kind = 'ssh';
  } else if (t === 'tls' || t === '') {
    if (!host) throw bad('qemu+tls needs a host');
    kind = 'tls';
  } else if (t === 'tcp') {
    throw bad('qemu+tcp (plain TCP, SASL) is not supported', 'Use qemu+tls://HOST/system (libvirtd\'s TLS listener, port 16514) or qemu+ssh://USER@HOST/system instead.');
  } else {
    throw bad(`transport "${t}" is not supported (supported: unix, ssh, tls)`);
  }
  const p = (path ?? '').replace(/\/+$/, '');
  if (p !== '/system' && p !== '/session') throw bad(`path "${path ?? ''}" must be /system or /session`);
  let port: number | undefined;
  if (portPart) {
    port = Number(portPart);
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw bad(`port ${portPart} is out of range`);
  }
  const params: Record<string, string> = {};
  for (const [k, v] of new URLSearchParams(query ?? '')) params[k] = v;
  return {
    raw,
    driver: 'qemu',
    transport: kind,
    ...(user ? { user: decodeURIComponent(user) } : {}),
    ...(host ? { host } : {}),
    ...(port ? { port } : {}),
    mode: p === '/system' ? 'system' : 'session',
    params,
  };
}

/** libvirtd's RPC socket for a local URI: `?socket=` wins; else the daemon's usual path. */
export function libvirtdSocketCandidates(uri: LibvirtUri, env: NodeJS.ProcessEnv = process.env): string[] {
  if (uri.params.socket) return [uri.params.socket];
  if (uri.mode === 'session') {
    const runtime = env.XDG_RUNTIME_DIR ?? `${env.HOME ?? ''}/.cache`;
    return [`${runtime}/libvirt/virtqemud-sock`, `${runtime}/libvirt/libvirt-sock`];
  }
  // monolithic libvirtd first (what RHEL 8 and Debian run), then the modular daemon (RHEL 9+)
  return ['/var/run/libvirt/libvirt-sock', '/var/run/libvirt/virtqemud-sock'];
}
