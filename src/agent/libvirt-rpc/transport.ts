/**
 * Guest-agent commands through libvirtd's own RPC socket (what `virsh qemu-agent-command` does), for
 * users in the `libvirt` group who cannot open the channel sockets, and for VMs without the dedicated
 * channel. libvirt does the guest-sync and shares its agent connection, so nothing is held here.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { QksError } from '../../errors.js';
import { DEFAULT_LIBVIRT_URI, libvirtdSocketCandidates, parseLibvirtUri } from '../../libvirt/uri.js';
import { decodeAll } from '../framing.js';
import { TIMEOUTS } from '../../timeouts.js';
import { DEFAULT_TIMEOUTS } from '../timeouts.js';
import type { AgentCandidate, AgentTarget, AgentTransport, ExecuteOptions, TransportInfo } from '../transport.js';
import { domainNotRunning, libvirtdNotRunning, polkitIncomplete, remoteUriNeedsCarrier, saslNotSupported, transportClosed, unexpectedReply } from './errors.js';
import {
  AuthType,
  QEMU_PROGRAM,
  QemuProc,
  REMOTE_PROGRAM,
  RemoteProc,
  agentCommandArgs,
  connectOpenArgs,
  decodeAgentCommandRet,
  decodeAuthListRet,
  decodeAuthPolkitRet,
  decodeLookupByNameRet,
  decodeVoidRet,
  lookupByNameArgs,
  type RemoteDomain,
} from './protocol.js';
import { LibvirtSession, type TrafficTap } from './session.js';
import type { CancelSignal } from '../../cancel.js';


export interface LibvirtTransportOptions {
  /** libvirt URI; default qemu:///system. `?socket=` picks the socket. */
  uri?: string;
  /** The libvirt domain (VM) name. */
  domain: string;
  /** libvirtd's socket; default: ?socket= of the URI, else libvirt-sock, then virtqemud-sock. */
  socketPath?: string;
  /** Bound on connect + authentication + open + lookup. Default: DEFAULT_TIMEOUTS.connectMs + handshakeMs. */
  timeoutMs?: number;
  /** Default bound of each agent command when the caller gives none. Default DEFAULT_TIMEOUTS.commandMs. */
  commandTimeoutMs?: number;
  /** Environment for the session socket paths (XDG_RUNTIME_DIR). Default process.env. */
  env?: NodeJS.ProcessEnv;
  signal?: CancelSignal;
  /** Raw traffic observer (fixtures, debugging). */
  tap?: TrafficTap;
}

export class LibvirtTransport implements AgentTransport {
  readonly info: TransportInfo;
  private closing: Promise<void> | undefined;

  constructor(
    private readonly session: LibvirtSession,
    private readonly dom: RemoteDomain,
    private readonly uri: string,
    /** How libvirtd let us in: 'none' (root) or 'polkit'. */
    readonly auth: 'none' | 'polkit',
    private readonly commandTimeoutMs: number,
    /** A remote hop (`user@host:port` over SSH, `host:port` over TLS). */
    via?: string,
    /** False when a LibvirtConnection shares the session among domains: close() then leaves it open. */
    private readonly ownsSession = true,
  ) {
    this.info = via ? { kind: 'libvirt', uri, domain: dom.name, via } : { kind: 'libvirt', socketPath: session.socketPath, uri, domain: dom.name };
  }

  async execute(command: string, args?: Record<string, unknown>, options: ExecuteOptions = {}): Promise<unknown> {
    if (this.closing) throw transportClosed();
    const timeoutMs = options.timeoutMs ?? this.commandTimeoutMs;
    const json = JSON.stringify(args === undefined ? { execute: command } : { execute: command, arguments: args });
    // libvirt's timeout is whole seconds; -2/-1/0 mean default/block/nowait, so always at least 1
    const seconds = Math.max(1, Math.ceil(timeoutMs / 1000));
    const body = await this.session.call(QEMU_PROGRAM, QemuProc.DOMAIN_AGENT_COMMAND, agentCommandArgs(this.dom, json, seconds), {
      timeoutMs: timeoutMs + TIMEOUTS.libvirt.rpcMarginMs,
      context: { operation: command, command, domain: this.dom.name, uri: this.uri },
      ...(options.signal ? { signal: options.signal } : {}),
    });
    return parseAgentReply(command, decodeAgentCommandRet(body));
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      if (this.ownsSession) await closeSession(this.session);
    })();
    return this.closing;
  }
}

/** The agent's JSON reply as libvirt forwards it: `{"return": ...}`. */
export function parseAgentReply(command: string, result: string | null): unknown {
  const bad = (why: string) => unexpectedReply(command, why, result);
  if (result === null) throw bad('no result');
  // the same bounded decoder as the direct path: nesting and size are refused before JSON.parse
  const [frame, ...rest] = decodeAll(Buffer.from(result, 'utf8'));
  if (!frame || rest.length || frame.type !== 'message') throw bad('not one JSON object');
  const reply: unknown = frame.value;
  if (reply && typeof reply === 'object' && 'return' in reply) return (reply as { return: unknown }).return;
  throw bad('no "return" member');
}

/**
 * Connects to libvirtd, authenticates (none as root, polkit for the libvirt group), opens the URI and
 * looks the domain up. Throws LIBVIRT_NOT_RUNNING, LIBVIRT_AUTH, VM_NOT_FOUND (absent or not running),
 * LIBVIRT_TIMEOUT.
 */
export async function openLibvirtTransport(options: LibvirtTransportOptions): Promise<LibvirtTransport> {
  const uriText = options.uri ?? DEFAULT_LIBVIRT_URI;
  const uri = parseLibvirtUri(uriText);
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUTS.connectMs + DEFAULT_TIMEOUTS.handshakeMs;
  const deadline = performance.now() + timeoutMs;
  const left = () => Math.max(1, Math.round(deadline - performance.now()));

  let paths: string[];
  if (options.socketPath) paths = [options.socketPath];
  else if (uri.transport === 'unix') paths = libvirtdSocketCandidates(uri, options.env ?? process.env);
  else {
    throw remoteUriNeedsCarrier(uriText);
  }

  const session = await connectFirst(paths, () => ({ timeoutMs: left(), signal: options.signal, tap: options.tap }));
  // the daemon on the socket serves its local URI; a remote URI's host part is ours, not its
  return startLibvirtTransport(session, { uri: uriText, openUri: `qemu:///${uri.mode}`, domain: options.domain, deadline, commandTimeoutMs: options.commandTimeoutMs });
}

export interface StartOptions {
  /** The URI as the user gave it (messages, TransportInfo). */
  uri: string;
  /** The URI CONNECT_OPEN asks the daemon for (its local one). */
  openUri: string;
  domain: string;
  /** performance.now() by which authentication, open and lookup must be done. */
  deadline: number;
  commandTimeoutMs?: number | undefined;
  /** A remote hop, for TransportInfo.via. */
  via?: string;
}

/**
 * Authenticates (none as root, polkit for the libvirt group), opens the URI and looks the domain up on
 * a connected session, whatever carries it (local socket, SSH hop, TLS). Destroys the session on failure.
 */
export async function startLibvirtTransport(session: LibvirtSession, o: StartOptions): Promise<LibvirtTransport> {
  const conn = await startLibvirtConnection(session, o);
  try {
    return await conn.lookup(o.domain, { owns: true, timeoutMs: Math.max(1, Math.round(o.deadline - performance.now())) });
  } catch (e) {
    session.destroy();
    throw e;
  }
}

/**
 * An authenticated, opened libvirtd session that serves many domains: one connection (local socket,
 * SSH hop or TLS) for a whole batch of VMs, each lookup() a transport over it. close() ends it.
 */
export class LibvirtConnection {
  constructor(
    private readonly session: LibvirtSession,
    private readonly o: Omit<StartOptions, 'domain' | 'deadline'>,
    readonly auth: 'none' | 'polkit',
  ) {}

  get isOpen(): boolean {
    return this.session.isOpen;
  }

  /** Looks the domain up: a transport to its agent over this session (its close() leaves the session open). */
  async lookup(domain: string, opts: { timeoutMs?: number; owns?: boolean } = {}): Promise<LibvirtTransport> {
    const uriText = this.o.uri;
    const dom = decodeLookupByNameRet(
      await this.session.call(REMOTE_PROGRAM, RemoteProc.DOMAIN_LOOKUP_BY_NAME, lookupByNameArgs(domain), {
        timeoutMs: opts.timeoutMs ?? DEFAULT_TIMEOUTS.commandMs,
        context: { uri: uriText, domain, operation: 'DOMAIN_LOOKUP_BY_NAME' },
      }),
    );
    if (dom.id < 0) {
      throw domainNotRunning(domain, uriText);
    }
    return new LibvirtTransport(this.session, dom, uriText, this.auth, this.o.commandTimeoutMs ?? DEFAULT_TIMEOUTS.commandMs, this.o.via, opts.owns ?? false);
  }

  close(): Promise<void> {
    return closeSession(this.session);
  }
}

/** CONNECT_CLOSE (a courtesy, bounded), then the socket goes. Never throws. */
async function closeSession(session: LibvirtSession): Promise<void> {
  if (session.isOpen) {
    await session
      .call(REMOTE_PROGRAM, RemoteProc.CONNECT_CLOSE, undefined, { timeoutMs: TIMEOUTS.libvirt.closeMs, context: { operation: 'CONNECT_CLOSE' } })
      .then((b) => decodeVoidRet(b, 'connect close'))
      .catch(() => undefined);
  }
  session.destroy();
}

/** Authenticates (none as root, polkit for the libvirt group) and opens the URI; destroys the session on failure. */
export async function startLibvirtConnection(session: LibvirtSession, o: Omit<StartOptions, 'domain'>): Promise<LibvirtConnection> {
  const left = () => Math.max(1, Math.round(o.deadline - performance.now()));
  try {
    const auth = await authenticate(session, left, o.uri);
    decodeVoidRet(
      await session.call(REMOTE_PROGRAM, RemoteProc.CONNECT_OPEN, connectOpenArgs(o.openUri), { timeoutMs: left(), context: { uri: o.uri, operation: 'CONNECT_OPEN' } }),
      'connect open',
    );
    return new LibvirtConnection(session, o, auth);
  } catch (e) {
    session.destroy();
    throw e;
  }
}

async function connectFirst(paths: string[], opts: () => Parameters<typeof LibvirtSession.connect>[1]): Promise<LibvirtSession> {
  const tried: string[] = [];
  let last: QksError | undefined;
  for (const p of paths) {
    try {
      return await LibvirtSession.connect(p, opts());
    } catch (e) {
      if (!(e instanceof QksError) || e.code !== 'LIBVIRT_NOT_RUNNING') throw e;
      last = e;
      tried.push(`${p} (${e.details.errno === 'ENOENT' ? 'absent' : 'refused'})`);
    }
  }
  throw libvirtdNotRunning(tried, paths, last?.hint);
}

async function authenticate(session: LibvirtSession, left: () => number, uri: string): Promise<'none' | 'polkit'> {
  const types = decodeAuthListRet(await session.call(REMOTE_PROGRAM, RemoteProc.AUTH_LIST, undefined, { timeoutMs: left(), context: { operation: 'AUTH_LIST', uri } }));
  if (types.length === 0 || types.includes(AuthType.NONE)) return 'none';
  if (types.includes(AuthType.POLKIT)) {
    const complete = decodeAuthPolkitRet(await session.call(REMOTE_PROGRAM, RemoteProc.AUTH_POLKIT, undefined, { timeoutMs: left(), context: { operation: 'AUTH_POLKIT', uri } }));
    if (!complete) throw polkitIncomplete();
    return 'polkit';
  }
  throw saslNotSupported(types);
}

/**
 * The libvirt candidate for openAgent(): libvirtd's socket for a local URI. With `--transport libvirt`
 * always; in `auto` (after the channel sockets) only when a libvirtd socket is there, so a host without
 * libvirtd keeps the channel sockets' own error. Remote URIs get none here: the SSH hop handles them.
 * `root` prefixes the socket paths, as it does libvirt's other paths in tests.
 */
export function libvirtAgentCandidates(target: AgentTarget, env: NodeJS.ProcessEnv = process.env, root = '/'): AgentCandidate[] {
  if (!target.vmName) return [];
  const uriText = target.libvirtUri ?? env.LIBVIRT_URI ?? DEFAULT_LIBVIRT_URI;
  const uri = parseLibvirtUri(uriText);
  if (uri.transport !== 'unix') return [];
  const paths = libvirtdSocketCandidates(uri, env).map((p) => (root === '/' ? p : join(root, p)));
  if ((target.transport ?? 'auto') === 'auto' && !paths.some((p) => existsSync(p))) return [];
  const domain = target.vmName;
  return [
    {
      label: `libvirtd ${paths.join(' or ')} (${uriText})`,
      kind: 'libvirt',
      open: async (o) => {
        const first = paths.find((p) => existsSync(p));
        return openLibvirtTransport({ uri: uriText, domain, env, timeoutMs: o.handshakeTimeoutMs, ...(root !== '/' && first ? { socketPath: first } : {}), ...(o.signal ? { signal: o.signal } : {}) });
      },
    },
  ];
}
