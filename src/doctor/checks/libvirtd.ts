/**
 * doctor: the libvirtd path end to end — socket (local, over SSH or TLS), authentication, domain, the
 * agent through libvirtd. The probe lives here, not in the transport: transports open, doctor reports.
 */
import { stat } from 'node:fs/promises';
import { toQksError, type QksError } from '../../errors.js';
import { openLibvirtTransport, type LibvirtTransport } from '../../agent/libvirt-rpc/transport.js';
import { DEFAULT_TIMEOUTS } from '../../agent/timeouts.js';
import { libvirtdSocketCandidates } from '../../libvirt/uri.js';
import { sshHostFor } from '../../remote/agent.js';
import { openLibvirtOverSsh } from '../../remote/libvirtd.js';
import { openLibvirtOverTls } from '../../remote/tls.js';
import { skipped, type Check } from '../types.js';

/** What `doctor` reports about the libvirtd path for one VM. */
export interface LibvirtProbe {
  ok: boolean;
  /** The libvirtd socket that answered, or the hop (`user@host` over SSH, `host:port` over TLS). */
  socketPath?: string;
  /** How libvirtd let us in. */
  auth?: 'none' | 'polkit';
  /** guest-ping through libvirtd answered. */
  agentConnected: boolean;
  ms: number;
  error?: ReturnType<QksError['toJSON']>;
}

/** Opens with `open`, pings the agent, closes; never throws. */
export async function probeLibvirt(open: () => Promise<LibvirtTransport>, pingTimeoutMs = DEFAULT_TIMEOUTS.handshakeMs): Promise<LibvirtProbe> {
  const started = performance.now();
  let t: LibvirtTransport | undefined;
  const where = () => (t ? { socketPath: (t.info.via ?? t.info.socketPath)!, auth: t.auth } : {});
  try {
    t = await open();
    await t.execute('guest-ping', undefined, { timeoutMs: pingTimeoutMs });
    return { ok: true, ...where(), agentConnected: true, ms: performance.now() - started };
  } catch (e) {
    return { ok: false, ...where(), agentConnected: false, ms: performance.now() - started, error: toQksError(e).toJSON() };
  } finally {
    await t?.close();
  }
}

export const libvirtdCheck: Check = {
  id: 'libvirtd',
  title: 'libvirtd path (--transport libvirt)',
  async run(s) {
    if (!s.options.vmName || s.options.socket) return skipped('needs --vm-name (the libvirt domain), without --socket');
    const domain = s.options.vmName;
    const timeoutMs = s.options.handshakeTimeoutMs;
    let r;
    let fallback: string;
    let how = '';
    if (s.uri.transport === 'ssh') {
      const ssh = sshHostFor(s.ssh, s.uri, {}, s.env);
      fallback = `libvirtd on ${ssh.via}`;
      const helper = await ssh.exec('command -v virt-ssh-helper || true', [], s.options.signal).then((x) => x.stdout.toString().trim(), () => '');
      const proxy = s.uri.params.proxy ?? 'auto';
      how = proxy === 'netcat' || (proxy === 'auto' && !helper) ? ` via ${s.uri.params.netcat ?? 'nc'} -U` : ' via virt-ssh-helper';
      r = await probeLibvirt(() => openLibvirtOverSsh(ssh, s.uri, { domain, ...(timeoutMs ? { timeoutMs } : {}) }));
    } else if (s.uri.transport === 'tls') {
      fallback = `libvirtd at ${s.uri.host} (TLS)`;
      r = await probeLibvirt(() => openLibvirtOverTls(s.uri, { domain, env: s.env, ...(timeoutMs ? { timeoutMs } : {}) }));
    } else {
      const candidates = libvirtdSocketCandidates(s.uri, s.env).map((p) => s.at(p));
      const present: string[] = [];
      for (const p of candidates) if (await stat(p).then((st) => st.isSocket(), () => false)) present.push(p);
      if (!present.length) return skipped(`no libvirtd socket (${candidates.join(', ')}): the libvirt transport is not available here`);
      fallback = present[0]!;
      r = await probeLibvirt(() => openLibvirtTransport({ uri: s.uri.raw, domain, socketPath: present[0]!, env: s.env, ...(timeoutMs ? { timeoutMs } : {}) }));
    }
    const data = { socket: r.socketPath ?? fallback, auth: r.auth, agentConnected: r.agentConnected, ms: Math.round(r.ms), ...(r.error ? { code: r.error.code } : {}) };
    if (r.ok) return { status: 'ok', detail: `${data.socket}${how} (auth ${r.auth ?? '?'}): the agent answers through libvirtd in ${data.ms} ms`, data };
    const e = r.error!;
    // locally the direct path may still work, so a libvirtd problem alone is a warning; remote URIs over TLS have no other path
    const status = s.uri.transport === 'tls' ? 'fail' : 'warn';
    return { status, detail: `${data.socket}${how}: ${e.message} [${e.code}]`, ...(e.hint ? { fix: e.hint } : {}), data };
  },
};
