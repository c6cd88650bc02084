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
import { DEFAULT_TIMEOUTS } from '../timeouts.js';
import type { AgentCandidate, AgentTarget } from '../connect.js';
import type { AgentTransport, ExecuteOptions, TransportInfo } from '../transport.js';
import { LIBVIRT_AUTH_HINT } from './errors.js';
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

/** libvirt adds its own guest-sync (up to 5 s when the agent is silent) before our command's timeout. */
const RPC_MARGIN_MS = 1_000;
/** CONNECT_CLOSE on the way out: a courtesy, never worth waiting for. */
const CLOSE_TIMEOUT_MS = 500;

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
  signal?: AbortSignal;
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
  ) {
    this.info = { kind: 'libvirt', socketPath: session.socketPath, uri, domain: dom.name };
  }

  async execute(command: string, args?: Record<string, unknown>, options: ExecuteOptions = {}): Promise<unknown> {
    if (this.closing) throw new QksError('AGENT_DISCONNECTED', 'the libvirt transport is closed', { retryable: false });
    const timeoutMs = options.timeoutMs ?? this.commandTimeoutMs;
    const json = JSON.stringify(args === undefined ? { execute: command } : { execute: command, arguments: args });
    // libvirt's timeout is whole seconds; -2/-1/0 mean default/block/nowait, so always at least 1
    const seconds = Math.max(1, Math.ceil(timeoutMs / 1000));
    const body = await this.session.call(QEMU_PROGRAM, QemuProc.DOMAIN_AGENT_COMMAND, agentCommandArgs(this.dom, json, seconds), {
      timeoutMs: timeoutMs + RPC_MARGIN_MS,
      context: { operation: command, command, domain: this.dom.name, uri: this.uri },
      ...(options.signal ? { signal: options.signal } : {}),
    });
    return parseAgentReply(command, decodeAgentCommandRet(body));
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      if (this.session.isOpen) {
        await this.session
          .call(REMOTE_PROGRAM, RemoteProc.CONNECT_CLOSE, undefined, { timeoutMs: CLOSE_TIMEOUT_MS, context: { operation: 'CONNECT_CLOSE' } })
          .then((b) => decodeVoidRet(b, 'connect close'))
          .catch(() => undefined);
      }
      this.session.destroy();
    })();
    return this.closing;
  }
}

/** The agent's JSON reply as libvirt forwards it: `{"return": ...}`. */
export function parseAgentReply(command: string, result: string | null): unknown {
  const bad = (why: string) =>
    new QksError('PROTOCOL_ERROR', `unexpected reply to ${command} through libvirtd: ${why}`, { details: { command, reply: result?.slice(0, 200) } });
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
    throw new QksError('USAGE', `${uriText} is a remote URI: the libvirt transport needs the socket forwarded first`, {
      hint: 'Give the local end of the forwarded libvirtd socket (socketPath), or run on the host itself.',
    });
  }

  const session = await connectFirst(paths, () => ({ timeoutMs: left(), signal: options.signal, tap: options.tap }));
  try {
    const ctx = { uri: uriText, domain: options.domain };
    const auth = await authenticate(session, left, uriText);
    // the daemon on the socket serves its local URI; a remote URI's host part is ours, not its
    const localUri = `qemu:///${uri.mode}`;
    decodeVoidRet(
      await session.call(REMOTE_PROGRAM, RemoteProc.CONNECT_OPEN, connectOpenArgs(localUri), { timeoutMs: left(), context: { ...ctx, operation: 'CONNECT_OPEN' } }),
      'connect open',
    );
    const dom = decodeLookupByNameRet(
      await session.call(REMOTE_PROGRAM, RemoteProc.DOMAIN_LOOKUP_BY_NAME, lookupByNameArgs(options.domain), {
        timeoutMs: left(),
        context: { ...ctx, operation: 'DOMAIN_LOOKUP_BY_NAME' },
      }),
    );
    if (dom.id < 0) {
      throw new QksError('VM_NOT_FOUND', `domain "${options.domain}" is defined in ${uriText} but not running`, {
        hint: 'Start the VM (virsh start NAME) and try again, or use --wait.',
        details: { uri: uriText, domain: options.domain },
      });
    }
    return new LibvirtTransport(session, dom, uriText, auth, options.commandTimeoutMs ?? DEFAULT_TIMEOUTS.commandMs);
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
  throw new QksError('LIBVIRT_NOT_RUNNING', `libvirtd is not running: tried ${tried.join(', ')}`, {
    hint: last?.hint,
    details: { tried: paths },
  });
}

async function authenticate(session: LibvirtSession, left: () => number, uri: string): Promise<'none' | 'polkit'> {
  const types = decodeAuthListRet(await session.call(REMOTE_PROGRAM, RemoteProc.AUTH_LIST, undefined, { timeoutMs: left(), context: { operation: 'AUTH_LIST', uri } }));
  if (types.length === 0 || types.includes(AuthType.NONE)) return 'none';
  if (types.includes(AuthType.POLKIT)) {
    const complete = decodeAuthPolkitRet(await session.call(REMOTE_PROGRAM, RemoteProc.AUTH_POLKIT, undefined, { timeoutMs: left(), context: { operation: 'AUTH_POLKIT', uri } }));
    if (!complete) throw new QksError('LIBVIRT_AUTH', 'libvirtd did not complete polkit authentication', { hint: LIBVIRT_AUTH_HINT });
    return 'polkit';
  }
  throw new QksError('LIBVIRT_AUTH', `libvirtd asks for authentication this tool does not speak (types ${types.join(', ')}: SASL)`, {
    hint: `${LIBVIRT_AUTH_HINT} SASL (auth_unix_rw = "sasl") is not supported.`,
    details: { authTypes: types },
  });
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

/** What `doctor` reports about the libvirtd path for one VM. */
export interface LibvirtProbe {
  ok: boolean;
  /** The libvirtd socket that answered. */
  socketPath?: string;
  /** How libvirtd let us in. */
  auth?: 'none' | 'polkit';
  /** guest-ping through libvirtd answered. */
  agentConnected: boolean;
  ms: number;
  error?: ReturnType<QksError['toJSON']>;
}

/**
 * Checks the libvirtd path end to end (socket, authentication, domain, agent) and never throws:
 * for `doctor`, which reports each step.
 */
export async function probeLibvirt(options: LibvirtTransportOptions): Promise<LibvirtProbe> {
  const started = performance.now();
  let t: LibvirtTransport | undefined;
  try {
    t = await openLibvirtTransport(options);
    await t.execute('guest-ping', undefined, { timeoutMs: options.commandTimeoutMs ?? DEFAULT_TIMEOUTS.handshakeMs });
    return { ok: true, socketPath: t.info.socketPath!, auth: t.auth, agentConnected: true, ms: performance.now() - started };
  } catch (e) {
    const error = e instanceof QksError ? e : new QksError('INTERNAL', String(e));
    return {
      ok: false,
      ...(t ? { socketPath: t.info.socketPath!, auth: t.auth } : {}),
      agentConnected: false,
      ms: performance.now() - started,
      error: error.toJSON(),
    };
  } finally {
    await t?.close();
  }
}
