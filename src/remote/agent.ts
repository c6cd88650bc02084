/**
 * The guest agent of a VM on a remote hypervisor: discovery over SSH, then a forwarded socket spoken
 * to with the ordinary direct transport. These are the `ssh` candidates of openAgent (src/agent/connect.ts).
 */
import type { AgentCandidate } from '../agent/connect.js';
import { connectDirect } from '../agent/direct.js';
import type { AgentTransport, TransportInfo } from '../agent/transport.js';
import { DEDICATED_CHANNEL, STANDARD_CHANNEL } from '../libvirt/channels.js';
import { parseLibvirtUri, type LibvirtUri } from '../libvirt/uri.js';
import { discoverRemoteChannels, remoteDiscoveryError, type RemoteDiscovery } from './discover.js';
import { forwardRemoteSocket } from './forward.js';
import { sshHostFor, validateVmName, type SshOptions } from './ssh.js';

export interface RemoteAgentOptions {
  /** A qemu+ssh:// URI (string or parsed). */
  uri: string | LibvirtUri;
  vmName: string;
  signal?: AbortSignal;
  /** QKS_SSH_CONFIG, QKS_CHANNEL_ROOT. Default process.env. */
  env?: NodeJS.ProcessEnv;
  /** Prefix for the remote libvirt paths (tests). Default env QKS_CHANNEL_ROOT, else `/`. */
  channelRoot?: string;
  ssh?: SshOptions;
  /** Reuse a host scan younger than this (ms). Default SCAN_TTL_MS. */
  maxAgeMs?: number;
}

function setup(o: RemoteAgentOptions) {
  const uri = typeof o.uri === 'string' ? parseLibvirtUri(o.uri) : o.uri;
  const env = o.env ?? process.env;
  const ssh = sshHostFor(uri, o.ssh, env);
  return { uri, env, ssh };
}

async function discover(o: RemoteAgentOptions): Promise<{ uri: LibvirtUri; found: RemoteDiscovery; ssh: ReturnType<typeof sshHostFor> }> {
  validateVmName(o.vmName); // before anything is started
  const { uri, env, ssh } = setup(o);
  const found = await discoverRemoteChannels(ssh, o.vmName, {
    mode: uri.mode,
    env,
    ...(o.channelRoot ? { root: o.channelRoot } : {}),
    ...(o.maxAgeMs !== undefined ? { maxAgeMs: o.maxAgeMs } : {}),
    ...(o.signal ? { signal: o.signal } : {}),
  });
  if (!found.sockets.length) throw remoteDiscoveryError(found, o.vmName);
  return { uri, found, ssh };
}

/**
 * The best remote socket of the VM (dedicated channel first), forwarded to a private local socket.
 * The SSH connection is shared (closeSshConnections() ends it); close() removes the forward.
 */
export async function openRemoteAgentSocket(o: RemoteAgentOptions): Promise<{ socketPath: string; remotePath: string; channel: string; via: string; close(): Promise<void> }> {
  const { found, ssh } = await discover(o);
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

/**
 * openAgent candidates for a VM behind a qemu+ssh URI, best first. Connecting and discovery happen
 * here (so SSH_HOST_KEY / SSH_AUTH / SOCKET_NOT_FOUND naming the host surface as themselves); each
 * candidate's open() forwards its socket and does the agent handshake, and removes the forward on failure.
 */
export async function remoteAgentCandidates(o: RemoteAgentOptions): Promise<AgentCandidate[]> {
  const { uri, found, ssh } = await discover(o);
  return found.sockets.map((s) => ({
    label: label(s.channel, s.path, found.via),
    kind: 'ssh' as const,
    async open(opts: { handshakeTimeoutMs: number; signal?: AbortSignal }): Promise<AgentTransport> {
      const fwd = await forwardRemoteSocket(ssh, s.path, opts.signal ? { signal: opts.signal } : {});
      try {
        const t = await connectDirect(fwd.socketPath, {
          handshakeTimeoutMs: opts.handshakeTimeoutMs,
          channel: s.channel,
          domain: o.vmName,
          ...(opts.signal ? { signal: opts.signal } : {}),
        });
        return overForward(t, { ...t.info, uri: uri.raw, via: found.via, domain: o.vmName, channel: s.channel }, () => fwd.close());
      } catch (e) {
        await fwd.close();
        throw e;
      }
    },
  }));
}
