/**
 * doctor: the SSH hop to the hypervisor (qemu+ssh): reachable, key accepted, the remote channel socket
 * found and openable by the SSH user. Over the doctor run's own SSH pool (closed with the run).
 */
import { toQksError } from '../../errors.js';
import { DEDICATED_CHANNEL } from '../../libvirt/channel-names.js';
import { parseLibvirtUri, type LibvirtUri } from '../../libvirt/uri.js';
import { sshHostFor } from '../../remote/agent.js';
import { discoverRemoteChannels } from '../../remote/discover.js';
import { remoteDiscoveryError } from '../../remote/errors.js';
import type { SshOptions, SshPool } from '../../ssh/index.js';
import { skipped, type Check, type CheckOutcome } from '../types.js';
import type { CancelSignal } from '../../cancel.js';

export const SSH_HOP_CHECK = { id: 'ssh-hop', title: 'SSH hop to the hypervisor' } as const;

export type SshHopResult = CheckOutcome & { id: string; title: string };

export interface SshHopOptions {
  uri: string | LibvirtUri;
  /** The SSH connections to use (and leave open: the caller closes the pool). */
  pool: SshPool;
  vmName?: string;
  env?: NodeJS.ProcessEnv;
  channelRoot?: string;
  ssh?: SshOptions;
  signal?: CancelSignal;
}

/** Never throws: every failure is a `fail` line with its fix. */
export async function checkSshHop(o: SshHopOptions): Promise<SshHopResult> {
  const line = (r: CheckOutcome): SshHopResult => ({ ...SSH_HOP_CHECK, ...r });
  let uri: LibvirtUri;
  try {
    uri = typeof o.uri === 'string' ? parseLibvirtUri(o.uri) : o.uri;
  } catch (e) {
    const err = toQksError(e);
    return line({ status: 'fail', detail: err.message, ...(err.hint ? { fix: err.hint } : {}) });
  }
  if (uri.transport !== 'ssh') return line({ status: 'skip', detail: `${uri.raw} is not qemu+ssh: no SSH hop` });
  const env = o.env ?? process.env;
  const started = performance.now();
  let via = uri.host ?? '';
  try {
    const ssh = sshHostFor(o.pool, uri, o.ssh, env);
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
      // the SSH user may still reach the agent through libvirtd there (see "libvirtd path"): a warning
      return line({ status: 'warn', detail: `${via}: reachable, key accepted; ${err.message.replace(/^on [^:]+: /, '')} [${err.code}]`, fix: `${err.hint ?? ''} Or go through libvirtd on that host (--transport libvirt).`.trim(), data });
    }
    const best = found.sockets[0]!;
    const detail = `${via}: reachable, key accepted, socket ${best.path} found and openable by the SSH user`;
    if (best.channel !== DEDICATED_CHANNEL) {
      return line({ status: 'warn', detail: `${detail} — only the standard channel, which libvirt holds while the VM runs under it`, fix: `Give the VM the dedicated channel ${DEDICATED_CHANNEL}, or use --transport libvirt.`, data });
    }
    return line({ status: 'ok', detail, data });
  } catch (e) {
    const err = toQksError(e);
    return line({ status: 'fail', detail: `${err.message} [${err.code}]`, ...(err.hint ? { fix: err.hint } : {}), data: { via, code: err.code } });
  }
}

export const sshHopCheck: Check = {
  ...SSH_HOP_CHECK,
  async run(s) {
    if (s.uri.transport !== 'ssh') return skipped(`${s.uri.raw} is not qemu+ssh: no SSH hop`);
    const { status, detail, fix, data } = await checkSshHop({ uri: s.uri, pool: s.ssh, ...(s.options.vmName ? { vmName: s.options.vmName } : {}), env: s.env, ...(s.options.signal ? { signal: s.options.signal } : {}) });
    return { status, detail, ...(fix ? { fix } : {}), ...(data ? { data } : {}) };
  },
};
