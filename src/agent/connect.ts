/**
 * Opens an agent client for a target: `--socket`, or a VM name resolved through libvirt's layouts.
 * The ways to try are data (an ordered list of candidates), so other transports (libvirtd's socket,
 * an SSH hop) join by adding candidates. If every candidate fails, one QksError lists each one and why.
 */
import { QksError, toQksError, type ErrorCode } from '../errors.js';
import { DEFAULT_LIBVIRT_URI, parseLibvirtUri } from '../libvirt/uri.js';
import { discoverChannelSockets, DEDICATED_CHANNEL, STANDARD_CHANNEL } from '../libvirt/channels.js';
import { AgentClient, type AgentClientOptions } from './client.js';
import { connectDirect } from './direct.js';
import { libvirtAgentCandidates } from './libvirt-rpc/transport.js';
import { remoteAgentCandidates } from '../remote/agent.js';
import { PERMISSION_HINT } from './errors.js';
import { DEFAULT_TIMEOUTS } from './timeouts.js';
import type { AgentTransport } from './transport.js';

export interface AgentTarget {
  /** An explicit socket path: wins over everything else. */
  socket?: string;
  /** The libvirt domain name. */
  vmName?: string;
  /** Default LIBVIRT_URI, else qemu:///system. */
  libvirtUri?: string;
  /** `auto` (default): channel sockets, then libvirtd; `direct`: channel sockets only; `libvirt`: libvirtd only. */
  transport?: 'auto' | 'direct' | 'libvirt';
}

/** One way to reach the agent. `open` must close whatever it opened when it fails. */
export interface AgentCandidate {
  /** Human label for messages, e.g. `dedicated channel /run/libvirt/qemu/channel/1-vm/org.qemu.guest_agent.1`. */
  label: string;
  kind: 'direct' | 'libvirt' | 'ssh';
  open(options: { handshakeTimeoutMs: number; signal?: AbortSignal }): Promise<AgentTransport>;
}

export interface OpenAgentOptions extends AgentClientOptions {
  /** Bound on each candidate's handshake (ms). Default DEFAULT_TIMEOUTS.handshakeMs. */
  handshakeTimeoutMs?: number;
  signal?: AbortSignal;
  /** Environment (LIBVIRT_URI, XDG_RUNTIME_DIR, HOME). Default process.env. */
  env?: NodeJS.ProcessEnv;
  /** Prefix for libvirt's paths (tests). Default `/`. */
  root?: string;
  /**
   * Candidates for the libvirt transport, tried after the channel sockets. Default: libvirtd's RPC
   * socket for the URI (`libvirtAgentCandidates` in libvirt-rpc/); `() => []` turns the libvirt transport off.
   */
  libvirtCandidates?: (target: AgentTarget, env: NodeJS.ProcessEnv) => AgentCandidate[];
  /** Replaces the candidate list entirely (tests, other hops). */
  candidates?: AgentCandidate[];
}

export interface AttemptFailure {
  label: string;
  code: ErrorCode;
  message: string;
}

function channelLabel(channel: string | undefined): string {
  if (channel === DEDICATED_CHANNEL) return 'dedicated channel';
  if (channel === STANDARD_CHANNEL) return 'standard channel';
  return 'socket';
}

function directCandidate(socketPath: string, channel: string | undefined, domain: string | undefined): AgentCandidate {
  return {
    label: `${channelLabel(channel)} ${socketPath}`,
    kind: 'direct',
    open: (o) =>
      connectDirect(socketPath, {
        handshakeTimeoutMs: o.handshakeTimeoutMs,
        ...(channel ? { channel } : {}),
        ...(domain ? { domain } : {}),
        ...(o.signal ? { signal: o.signal } : {}),
      }),
  };
}

/** The candidate list for a target, best first. Discovery problems become a QksError when nothing is left to try. */
export async function agentCandidates(target: AgentTarget, options: OpenAgentOptions = {}): Promise<AgentCandidate[]> {
  return (await planAttempts(target, options)).candidates;
}

/** Candidates, plus why channel discovery found nothing (reported beside the candidates' failures). */
async function planAttempts(target: AgentTarget, options: OpenAgentOptions): Promise<{ candidates: AgentCandidate[]; discoveryError?: QksError }> {
  const env = options.env ?? process.env;
  const transport = target.transport ?? 'auto';
  if (target.socket) return { candidates: [directCandidate(target.socket, undefined, target.vmName)] };
  if (!target.vmName) {
    throw new QksError('USAGE', 'no guest-agent socket given: pass --socket PATH or --vm-name NAME', {
      hint: 'e.g. --vm-name kubesolo (with LIBVIRT_URI for the hypervisor), or --socket /path/to/org.qemu.guest_agent.1',
    });
  }
  const uri = parseLibvirtUri(target.libvirtUri ?? env.LIBVIRT_URI ?? DEFAULT_LIBVIRT_URI);
  const out: AgentCandidate[] = [];
  let discoveryError: QksError | undefined;
  if (transport !== 'libvirt' && uri.transport === 'unix') {
    const found = await discoverChannelSockets(target.vmName, { mode: uri.mode, env, ...(options.root ? { root: options.root } : {}) });
    for (const s of found.sockets) out.push(directCandidate(s.path, s.channel, target.vmName));
    if (!found.sockets.length) {
      discoveryError = found.denied.length
        ? new QksError('SOCKET_PERMISSION', `cannot look for the agent sockets of ${target.vmName}: permission denied on ${found.denied.join(', ')}`, {
            hint: PERMISSION_HINT,
            details: { vmName: target.vmName, denied: found.denied },
          })
        : new QksError('SOCKET_NOT_FOUND', `no guest-agent channel socket found for VM ${target.vmName} (${uri.raw})`, {
            hint: `The VM is not running, has another name, or has no guest-agent channel (add ${DEDICATED_CHANNEL}); or pass --socket PATH.`,
            details: { vmName: target.vmName, searched: found.searched },
          });
    }
  }
  // a remote hypervisor (qemu+ssh): discovery and socket forwards over OpenSSH, src/remote/
  if (transport !== 'libvirt' && uri.transport === 'ssh') out.push(...(await remoteAgentCandidates({ uri, vmName: target.vmName, env, ...(options.signal ? { signal: options.signal } : {}) })));
  if (transport !== 'direct') out.push(...(options.libvirtCandidates ?? ((t, e) => libvirtAgentCandidates(t, e, options.root)))(target, env));
  if (!out.length) {
    if (discoveryError) throw discoveryError;
    throw new QksError('USAGE', `no way to reach the agent of ${target.vmName} with --transport ${transport} and ${uri.raw}`, {
      hint: transport === 'libvirt' ? 'The libvirt transport is turned off here; use --transport direct.' : 'Use a local URI (qemu:///system or qemu:///session) or --socket.',
    });
  }
  return { candidates: out, ...(discoveryError ? { discoveryError } : {}) };
}

// When several candidates fail, the most telling failure decides the code.
const PRIORITY: ErrorCode[] = [
  'SOCKET_PERMISSION', 'SOCKET_HELD', 'COMMAND_DISABLED', 'PROTOCOL_ERROR', 'AGENT_TIMEOUT', 'AGENT_DISCONNECTED',
  'LIBVIRT_AUTH', 'AGENT_NOT_CONNECTED', 'LIBVIRT_TIMEOUT', 'LIBVIRT_ERROR', 'VM_NOT_FOUND', 'SOCKET_NOT_FOUND', 'LIBVIRT_NOT_RUNNING',
];

/** Connects to the first candidate that completes a handshake. */
export async function openAgent(target: AgentTarget, options: OpenAgentOptions = {}): Promise<AgentClient> {
  const plan = options.candidates ? { candidates: options.candidates } : await planAttempts(target, options);
  const handshakeTimeoutMs = options.handshakeTimeoutMs ?? DEFAULT_TIMEOUTS.handshakeMs;
  const failures: { label: string; error: QksError }[] = [];
  if ('discoveryError' in plan && plan.discoveryError) failures.push({ label: `channel sockets of ${target.vmName}`, error: plan.discoveryError });
  const candidates = plan.candidates;
  for (const c of candidates) {
    try {
      const transport = await c.open({ handshakeTimeoutMs, ...(options.signal ? { signal: options.signal } : {}) });
      return new AgentClient(transport, options);
    } catch (e) {
      const error = toQksError(e);
      if (options.signal?.aborted) throw error;
      if (error.code === 'USAGE' || error.code === 'CONFIG_INVALID') throw error;
      failures.push({ label: c.label, error });
    }
  }
  if (failures.length === 1) throw failures[0]!.error;
  const rank = (e: QksError) => {
    const i = PRIORITY.indexOf(e.code);
    return i < 0 ? PRIORITY.length : i;
  };
  const main = failures.reduce((a, b) => (rank(b.error) < rank(a.error) ? b : a)).error;
  const attempts: AttemptFailure[] = failures.map((f) => ({ label: f.label, code: f.error.code, message: f.error.message }));
  throw new QksError(main.code, `could not reach the guest agent${target.vmName ? ` of ${target.vmName}` : ''}; tried:\n${attempts.map((a) => `  - ${a.label}: ${a.message} [${a.code}]`).join('\n')}`, {
    ...(main.hint ? { hint: main.hint } : {}),
    retryable: failures.some((f) => f.error.retryable),
    details: { attempts },
  });
}

/** Opens a client, runs `fn`, closes the client (held for one operation only: FACTS §1). */
export async function withAgent<T>(target: AgentTarget, fn: (client: AgentClient) => Promise<T>, options: OpenAgentOptions = {}): Promise<T> {
  const client = await openAgent(target, options);
  try {
    return await fn(client);
  } finally {
    await client.close();
  }
}
