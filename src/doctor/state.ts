/**
 * What the checks share: the options, and facts found once and reused (identity, channel discovery,
 * one agent connection, guest-info, the kubeconfig bytes). Each fact is computed on first use; a
 * failure is kept as a QksError so later checks can say "skipped: see <check>".
 * The agent connection is closed by close() — doctor holds it only for its few commands: a qemu-ga socket serves one client at a time.
 */
import { readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { openAgent as realOpenAgent, type AgentTarget, type OpenAgentOptions } from '../agent/connect.js';
import type { AgentClient, AgentInfo } from '../agent/client.js';
import { toQksError, type QksError } from '../errors.js';
import { AGENT_CHANNELS } from '../libvirt/channel-names.js';
import { discoverChannelSockets, type ChannelSocket, type Discovery } from '../libvirt/channels.js';
import { parseLibvirtUri, type LibvirtUri } from '../libvirt/uri.js';
import { DEFAULT_REMOTE_PATH } from '../kubeconfig/options.js';
import { SshPool } from '../ssh/pool.js';
import { identityOf, type Identity } from './identity.js';
import type { CancelSignal } from '../cancel.js';

export interface DoctorOptions {
  vmName?: string;
  socket?: string;
  /** Default LIBVIRT_URI, else qemu:///system. */
  libvirtUri?: string;
  /** The address clients use for the API server (checked by a TCP connect). Default: the first of KUBECONFIG_API_ADDRESS. */
  apiServer?: string;
  /** The cidata ISO whose SELinux label to check. */
  iso?: string;
  /** The kubeconfig in the guest. */
  remotePath?: string;
  /** How to reach the agent (as kubeconfig --transport). Default auto. */
  transport?: 'auto' | 'direct' | 'libvirt';
  env?: NodeJS.ProcessEnv;
  /** Prefix for host paths (/etc, /sys, libvirt's trees): tests lay out fake ones. Default `/`. */
  root?: string;
  /** Default: this process's. */
  uid?: number;
  gids?: number[];
  handshakeTimeoutMs?: number;
  /** Bound on the API TCP connect. Default 2000 ms. */
  tcpTimeoutMs?: number;
  /** Replaces openAgent (tests, other transports). */
  openAgent?: (target: AgentTarget, options: OpenAgentOptions) => Promise<AgentClient>;
  /** Reads a file's SELinux context; undefined when it has none. Default: stat -c %C / getfattr. */
  selinuxContext?: (path: string) => Promise<string | undefined>;
  signal?: CancelSignal;
  /** SSH connections for a qemu+ssh URI (the caller closes it). Default: the run's own, closed with it. */
  sshPool?: SshPool;
}

export type Fact<T> = { ok: true; value: T } | { ok: false; error: QksError };

/** A socket the checks look at: from discovery, or the one given by --socket. */
export interface SocketCandidate {
  path: string;
  /** The channel name when known (discovery knows; for --socket we guess from the file name). */
  channel?: string;
}

function memo<T>(fn: () => Promise<T>): () => Promise<Fact<T>> {
  let p: Promise<Fact<T>> | undefined;
  return () =>
    (p ??= fn().then(
      (value) => ({ ok: true as const, value }),
      (e: unknown) => ({ ok: false as const, error: toQksError(e) }),
    ));
}

export class DoctorState {
  readonly root: string;
  readonly env: NodeJS.ProcessEnv;
  readonly uri: LibvirtUri;
  /** The SSH connections of this run (one per host, shared by every check). */
  readonly ssh: SshPool;
  private client: AgentClient | undefined;

  constructor(readonly options: DoctorOptions) {
    this.ssh = options.sshPool ?? new SshPool();
    this.root = options.root ?? '/';
    this.env = options.env ?? process.env;
    this.uri = parseLibvirtUri(options.libvirtUri || this.env.LIBVIRT_URI || 'qemu:///system'); // an empty variable counts as unset
  }

  /** --api-server, else the first address of KUBECONFIG_API_ADDRESS (a comma/space list, as for artifacts). */
  apiServer(): string | undefined {
    return this.options.apiServer ?? this.env.KUBECONFIG_API_ADDRESS?.split(/[\s,]+/).find(Boolean);
  }

  /** A host path under the root prefix. */
  at(path: string): string {
    return join(this.root, path);
  }

  readonly identity = memo(async (): Promise<Identity> => {
    const read = (p: string) => readFile(this.at(p), 'utf8').catch(() => '');
    return identityOf({
      uid: this.options.uid ?? process.getuid?.() ?? -1,
      gids: this.options.gids ?? [...new Set([process.getgid?.() ?? -1, ...(process.getgroups?.() ?? [])])],
      passwd: await read('/etc/passwd'),
      group: await read('/etc/group'),
    });
  });

  /** Channel discovery for --vm-name on a local URI; undefined when --socket was given or the URI is remote. */
  readonly discovery = memo(async (): Promise<Discovery | undefined> => {
    if (this.options.socket || !this.options.vmName || this.uri.transport !== 'unix') return undefined;
    return discoverChannelSockets(this.options.vmName, { root: this.root, mode: this.uri.mode, env: this.env, channels: AGENT_CHANNELS });
  });

  /** The sockets to look at, best first. */
  async sockets(): Promise<SocketCandidate[]> {
    if (this.options.socket) {
      const name = basename(this.options.socket);
      const channel = AGENT_CHANNELS.find((c) => name === c || name.endsWith(`.${c}`));
      return [{ path: this.options.socket, ...(channel ? { channel } : {}) }];
    }
    const d = await this.discovery();
    return d.ok && d.value ? d.value.sockets.map((s: ChannelSocket) => ({ path: s.path, channel: s.channel })) : [];
  }

  /** One agent connection for every check that needs one (opened on first use, guest-ping answered). */
  readonly agent = memo(async (): Promise<{ client: AgentClient; ms: number }> => {
    const started = performance.now();
    const open = this.options.openAgent ?? realOpenAgent;
    const target: AgentTarget = {
      ...(this.options.socket ? { socket: this.options.socket } : {}),
      ...(this.options.vmName ? { vmName: this.options.vmName } : {}),
      libvirtUri: this.uri.raw,
      ...(this.options.transport ? { transport: this.options.transport } : {}),
    };
    const client = await open(target, {
      env: this.env,
      ...(this.options.root && this.options.root !== '/' ? { root: this.options.root } : {}),
      ...(this.options.handshakeTimeoutMs ? { handshakeTimeoutMs: this.options.handshakeTimeoutMs } : {}),
      ...(this.options.signal ? { signal: this.options.signal } : {}),
      sshPool: this.ssh,
    });
    this.client = client;
    await client.ping(this.options.signal ? { signal: this.options.signal } : {});
    return { client, ms: Math.round(performance.now() - started) };
  });

  readonly info = memo(async (): Promise<AgentInfo> => {
    const a = await this.agent();
    if (!a.ok) throw a.error;
    return a.value.client.info();
  });

  readonly kubeconfig = memo(async (): Promise<Buffer> => {
    const a = await this.agent();
    if (!a.ok) throw a.error;
    return a.value.client.readFile(this.options.remotePath ?? DEFAULT_REMOTE_PATH, { maxBytes: 1024 * 1024 });
  });

  async close(): Promise<void> {
    await this.client?.close().catch(() => {});
    if (!this.options.sshPool) await this.ssh.close();
  }
}
