/**
 * doctor's SSH line: reachable, key accepted, remote socket found, permission — in the shape of a
 * doctor check outcome (src/doctor/types.ts) so the checklist can add it as one line.
 */
import { toQksError } from '../errors.js';
import { DEDICATED_CHANNEL } from '../libvirt/channels.js';
import { parseLibvirtUri, type LibvirtUri } from '../libvirt/uri.js';
import { discoverRemoteChannels, remoteDiscoveryError } from './discover.js';
import { sshHostFor, type SshOptions } from './ssh.js';

export const SSH_HOP_CHECK = { id: 'ssh-hop', title: 'SSH hop to the hypervisor' } as const;

export interface SshHopResult {
  id: string;
  title: string;
  status: 'ok' | 'fail' | 'warn' | 'skip';
  detail: string;
  fix?: string;
  data?: Record<string, unknown>;
}

export interface SshHopOptions {
  uri: string | LibvirtUri;
  vmName?: string;
  env?: NodeJS.ProcessEnv;
  channelRoot?: string;
  ssh?: SshOptions;
  signal?: AbortSignal;
}

/** Never throws: every failure is a `fail` line with its fix. Uses the shared connection (closeSshConnections ends it). */
export async function checkSshHop(o: SshHopOptions): Promise<SshHopResult> {
  const line = (r: Omit<SshHopResult, 'id' | 'title'>): SshHopResult => ({ ...SSH_HOP_CHECK, ...r });
  let uri: LibvirtUri;
  try {
    uri = typeof o.uri === 'string' ? parseLibvirtUri(o.uri) : o.uri;
  } catch (e) {
    const err = toQksError(e);
    return line({ status: 'fail', detail: err.message, ...(err.hint ? { fix: err.hint } : {}) });
  }
  if (uri.transport !== 'ssh') return line({ status: 'skip', detail: `${uri.raw} is local: no SSH hop` });
  const env = o.env ?? process.env;
  const started = performance.now();
  let via = uri.host ?? '';
  try {
    const ssh = sshHostFor(uri, o.ssh, env);
    via = ssh.via;
    await ssh.connect(o.signal);
    const connectMs = Math.round(performance.now() - started);
    if (!o.vmName) return line({ status: 'ok', detail: `${via}: reachable, key accepted (${connectMs} ms)`, data: { via, connectMs } });
    const found = await discoverRemoteChannels(ssh, o.vmName, {
      mode: uri.mode,
      env,
      ...(o.channelRoot ? { root: o.channelRoot } : {}),
      ...(o.signal ? { signal: o.signal } : {}),
    });
    const data = { via, connectMs, sockets: found.sockets.map((s) => s.path), forbidden: found.forbidden.map((s) => s.path) };
    if (!found.sockets.length) {
      const err = remoteDiscoveryError(found, o.vmName);
      return line({ status: 'fail', detail: `${via}: reachable, key accepted; ${err.message.replace(/^on [^:]+: /, '')} [${err.code}]`, ...(err.hint ? { fix: err.hint } : {}), data });
    }
    const best = found.sockets[0]!;
    const detail = `${via}: reachable, key accepted, socket ${best.path} found and openable by the SSH user`;
    if (best.channel !== DEDICATED_CHANNEL) {
      return line({ status: 'warn', detail: `${detail} — only the standard channel, which libvirt holds while the VM runs under it`, fix: `Give the VM the dedicated channel ${DEDICATED_CHANNEL}.`, data });
    }
    return line({ status: 'ok', detail, data });
  } catch (e) {
    const err = toQksError(e);
    return line({ status: 'fail', detail: `${err.message} [${err.code}]`, ...(err.hint ? { fix: err.hint } : {}), data: { via, code: err.code } });
  }
}
