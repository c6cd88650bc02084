/**
 * The guest agent of a VM behind a qemu+ssh URI, as openAgent candidates (src/agent/connect.ts is the
 * chooser; this file only makes the list): the dedicated channel's socket forwarded over the SSH
 * connection and spoken to with the direct transport; libvirtd's RPC over the same connection
 * (./libvirtd.ts: the way for a libvirt-group operator, and for VMs with only org.qemu.guest_agent.0);
 * last, the standard channel forwarded. One connection per host (the caller's SshPool).
 */
import { connectDirect } from '../agent/direct.js';
import type { AgentCandidate, AgentTransport, CandidatePlan, TransportInfo } from '../agent/transport.js';
import { DEDICATED_CHANNEL, STANDARD_CHANNEL } from '../libvirt/channel-names.js';
import { parseLibvirtUri, type LibvirtUri } from '../libvirt/uri.js';
import { pooledHost, type SshHost, type SshOptions, type SshPool } from '../ssh/index.js';
import { sshDestination, uriSshHints, validateVmName } from './destination.js';
import { discoverRemoteChannels, type RemoteDiscovery } from './discover.js';
import { remoteDiscoveryError } from './errors.js';
import { forwardRemoteSocket } from './forward.js';
import { connectLibvirtOverSsh, REMOTE_START_MS } from './libvirtd.js';
import type { LibvirtConnection } from '../agent/libvirt-rpc/transport.js';
import { DEFAULT_TIMEOUTS } from '../agent/timeouts.js';
import type { CancelSignal } from '../cancel.js';

export interface RemoteAgentOptions {
  /** A qemu+ssh:// URI (string or parsed). */
  uri: string | LibvirtUri;
  vmName: string;
  /** The SSH connections (owned by the caller: it closes them). */
  pool: SshPool;
  /** `auto` (default): dedicated channel, libvirtd, standard channel; `direct`: channels only; `libvirt`: libvirtd only. */
  transport?: 'auto' | 'direct' | 'libvirt';
  signal?: CancelSignal;
  /** QKS_SSH_CONFIG, QKS_CHANNEL_ROOT. Default process.env. */
  env?: NodeJS.ProcessEnv;
  /** Prefix for the remote libvirt paths (tests). Default env QKS_CHANNEL_ROOT, else `/`. */
  channelRoot?: string;
  ssh?: SshOptions;
  /** Reuse a host scan younger than this (ms). Default SCAN_TTL_MS. */
  maxAgeMs?: number;
}

/** The shared connection for a qemu+ssh URI from the caller's pool, with the URI's fixes in its messages. */
export function sshHostFor(pool: SshPool, uri: LibvirtUri, opts: SshOptions = {}, env: NodeJS.ProcessEnv = process.env): SshHost {
  const dest = sshDestination(uri);
  return pooledHost(pool, dest, { hints: uriSshHints(dest), ...opts }, env);
}

function setup(o: RemoteAgentOptions) {
  validateVmName(o.vmName); // before anything is started
  const uri = typeof o.uri === 'string' ? parseLibvirtUri(o.uri) : o.uri;
  const env = o.env ?? process.env;
  return { uri, env, ssh: sshHostFor(o.pool, uri, o.ssh, env) };
}

function discover(o: RemoteAgentOptions, ssh: SshHost, uri: LibvirtUri, env: NodeJS.ProcessEnv): Promise<RemoteDiscovery> {
  return discoverRemoteChannels(ssh, o.vmName, {
    mode: uri.mode,
    env,
    ...(o.channelRoot ? { root: o.channelRoot } : {}),
    ...(o.maxAgeMs !== undefined ? { maxAgeMs: o.maxAgeMs } : {}),
    ...(o.signal ? { signal: o.signal } : {}),
  });
}

/**
 * The best remote socket of the VM (dedicated channel first), forwarded to a private local socket.
 * The SSH connection stays in the pool; close() removes the forward.
 */
export async function openRemoteAgentSocket(o: RemoteAgentOptions): Promise<{ socketPath: string; remotePath: string; channel: string; via: string; close(): Promise<void> }> {
  const { uri, env, ssh } = setup(o);
  const found = await discover(o, ssh, uri, env);
  if (!found.sockets.length) throw remoteDiscoveryError(found, o.vmName);
  const best = found.sockets[0]!;
  const fwd = await forwardRemoteSocket(ssh, best.path, o.signal ? { signal: o.signal } : {});
  return { socketPath: fwd.socketPath, remotePath: best.path, channel: best.channel, via: fwd.via, close: () => fwd.close() };
}

function label(channel: string, path: string, via: string): string {
  const name = channel === DEDICATED_CHANNEL ? 'dedicated channel' : channel === STANDARD_CHANNEL ? 'standard channel' : 'socket';
  return `${name} ${via}:${path} (over ssh)`;
}

/** Wraps a transport so that closing it also removes the forward it runs over. */
function overForward(t: AgentTransport, info: TransportInfo, closeForward: () => Promise<void>): AgentTransport {
  return {
    info,
    execute: (command, args, opts) => t.execute(command, args, opts),
    async close() {
      await t.close();
      await closeForward();
    },
  };
}

function forwardedCandidate(ssh: SshHost, uri: LibvirtUri, vmName: string, s: { path: string; channel: string }): AgentCandidate {
  return {
    label: label(s.channel, s.path, ssh.via),
    kind: 'ssh',
    async open(opts) {
      const fwd = await forwardRemoteSocket(ssh, s.path, opts.signal ? { signal: opts.signal } : {});
      try {
        const t = await connectDirect(fwd.socketPath, { handshakeTimeoutMs: opts.handshakeTimeoutMs, channel: s.channel, domain: vmName, ...(opts.signal ? { signal: opts.signal } : {}) });
        return overForward(t, { ...t.info, uri: uri.raw, via: ssh.via, domain: vmName, channel: s.channel }, () => fwd.close());
      } catch (e) {
        await fwd.close();
        throw e;
      }
    },
  };
}

/**
 * One libvirtd session per host and URI, shared by every VM of a batch (SshHost.cache: it ends with the
 * SSH connection, whose close() ends the helper). A session that died (libvirtd restarted) is re-made.
 */
async function sharedLibvirtd(ssh: SshHost, uri: LibvirtUri, timeoutMs: number, signal?: CancelSignal): Promise<LibvirtConnection> {
  const key = `libvirtd ${uri.raw}`;
  const cached = ssh.cache.get(key) as Promise<LibvirtConnection> | undefined;
  if (cached) {
    const c = await cached.catch(() => undefined);
    if (c?.isOpen) return c;
    if (ssh.cache.get(key) === cached) ssh.cache.delete(key);
  }
  let p = ssh.cache.get(key) as Promise<LibvirtConnection> | undefined;
  if (!p) {
    const made = connectLibvirtOverSsh(ssh, uri, { timeoutMs, ...(signal ? { signal } : {}) });
    ssh.cache.set(key, made);
    made.catch(() => ssh.cache.get(key) === made && ssh.cache.delete(key));
    p = made;
  }
  return p;
}

function libvirtdCandidate(ssh: SshHost, uri: LibvirtUri, vmName: string): AgentCandidate {
  const proxy = uri.params.proxy ?? 'auto';
  const how = proxy === 'native' ? 'virt-ssh-helper' : proxy === 'netcat' ? `${uri.params.netcat ?? 'nc'} -U` : 'virt-ssh-helper or nc -U';
  return {
    label: `libvirtd on ${ssh.via} (${how}, over ssh)`,
    kind: 'libvirt',
    async open(o) {
      // the handshake bound is for a local socket; the hop adds the far side's process start and round trips
      const timeoutMs = o.handshakeTimeoutMs + REMOTE_START_MS - DEFAULT_TIMEOUTS.handshakeMs;
      const conn = await sharedLibvirtd(ssh, uri, timeoutMs, o.signal);
      return conn.lookup(vmName, { timeoutMs });
    },
  };
}

/**
 * openAgent candidates for a VM behind a qemu+ssh URI, best first. Connecting and discovery happen here
 * (so SSH_HOST_KEY / SSH_AUTH naming the host surface as themselves); a discovery that finds no socket
 * is a note beside libvirtd's candidate, not an error, unless the channels are all that is asked for.
 */
export async function remoteAgentCandidates(o: RemoteAgentOptions): Promise<CandidatePlan> {
  const { uri, env, ssh } = setup(o);
  const transport = o.transport ?? 'auto';
  const candidates: AgentCandidate[] = [];
  const notes: NonNullable<CandidatePlan['notes']> = [];
  let standard: AgentCandidate[] = [];
  if (transport !== 'libvirt') {
    const found = await discover(o, ssh, uri, env);
    if (!found.sockets.length) {
      const err = remoteDiscoveryError(found, o.vmName);
      if (transport === 'direct') throw err;
      notes.push({ label: `channel sockets of ${o.vmName} on ${ssh.via}`, error: err });
    }
    const all = found.sockets.map((s) => forwardedCandidate(ssh, uri, o.vmName, s));
    // in auto the standard channel comes after libvirtd: libvirt holds it while the VM runs under it
    candidates.push(...all.filter((_, i) => transport === 'direct' || found.sockets[i]!.channel !== STANDARD_CHANNEL));
    standard = transport === 'direct' ? [] : all.filter((_, i) => found.sockets[i]!.channel === STANDARD_CHANNEL);
  } else {
    await ssh.connect(o.signal); // SSH failures surface as themselves before libvirtd is tried
  }
  if (transport !== 'direct') candidates.push(libvirtdCandidate(ssh, uri, o.vmName));
  candidates.push(...standard);
  return { candidates, ...(notes.length ? { notes } : {}) };
}
