/**
 * The one place that chooses and opens a way to a guest agent. Each way makes its own candidates
 * (data: a label and an open()), this file orders them and tries them:
 *   --socket PATH                  the direct transport on that socket
 *   qemu:///system, qemu:///session the VM's channel sockets (src/libvirt/channels.ts), then libvirtd's
 *                                  RPC socket (./libvirt-rpc/transport.ts)
 *   qemu+ssh://                    the forwarded dedicated channel, then libvirtd over the same SSH
 *                                  connection, then the standard channel (src/remote/agent.ts)
 *   qemu+tls://                    libvirtd's TLS listener (src/remote/tls.ts)
 * The candidate types live beside the transport interface (./transport.ts), so none of those files
 * imports this one. If every candidate fails, one QksError lists each one and why.
 * The libvirt RPC, SSH and TLS ways are imported when a target needs them: a `--socket` run does not
 * compile them (bench/startup.md).
 */
import { toQksError, type ErrorCode, type QksError } from '../errors.js';
import { DEFAULT_LIBVIRT_URI, parseLibvirtUri, type LibvirtUri } from '../libvirt/uri.js';
import { discoverChannelSockets, DEDICATED_CHANNEL, STANDARD_CHANNEL } from '../libvirt/channels.js';
import { SshPool } from '../ssh/pool.js';
import { AgentClient, type AgentClientOptions } from './client.js';
import { connectDirect } from './direct.js';
import { candidatesNeedSshPool, channelSocketsDenied, directCannotReachTls, noAgentTarget, noChannelSocket, noWayToAgent, unreachableError, type AttemptFailure } from './errors.js';
import { DEFAULT_TIMEOUTS } from './timeouts.js';
import type { AgentCandidate, AgentTarget, AgentTransport, CandidateContext, CandidatePlan } from './transport.js';

export type { AgentCandidate, AgentTarget } from './transport.js';

export interface OpenAgentOptions extends AgentClientOptions {
  /** Bound on each candidate's handshake (ms). Default DEFAULT_TIMEOUTS.handshakeMs. */
  handshakeTimeoutMs?: number;
  signal?: AbortSignal;
  /** Environment (LIBVIRT_URI, XDG_RUNTIME_DIR, HOME, QKS_SSH_CONFIG). Default process.env. */
  env?: NodeJS.ProcessEnv;
  /** Prefix for libvirt's paths (tests). Default `/`. */
  root?: string;
  /**
   * SSH connections for qemu+ssh URIs, shared across calls; the caller closes it (the CLI: one per
   * command). Default: a private pool that closes with the client.
   */
  sshPool?: SshPool;
  /**
   * Candidates for the local libvirt transport, tried after the channel sockets. Default: libvirtd's RPC
   * socket for the URI (`libvirtAgentCandidates`); `() => []` turns the local libvirt transport off.
   */
  libvirtCandidates?: (target: AgentTarget, env: NodeJS.ProcessEnv) => AgentCandidate[];
  /** Replaces the candidate list entirely (tests, other hops). */
  candidates?: AgentCandidate[];
}

export type { AttemptFailure } from './errors.js';

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

/** The local URI's channel sockets, with why discovery found nothing as a note. */
async function localChannelPlan(vmName: string, uri: LibvirtUri, ctx: CandidateContext): Promise<CandidatePlan> {
  const found = await discoverChannelSockets(vmName, { mode: uri.mode, env: ctx.env, ...(ctx.root ? { root: ctx.root } : {}) });
  const candidates = found.sockets.map((s) => directCandidate(s.path, s.channel, vmName));
  if (found.sockets.length) return { candidates };
  const error = found.denied.length ? channelSocketsDenied(vmName, found.denied) : noChannelSocket(vmName, uri.raw, found.searched);
  return { candidates, notes: [{ label: `channel sockets of ${vmName}`, error }] };
}

/** libvirtd's RPC socket for the local URI (./libvirt-rpc/transport.ts), loaded on first need. */
async function libvirtRpcCandidates(root: string | undefined): Promise<(target: AgentTarget, env: NodeJS.ProcessEnv) => AgentCandidate[]> {
  const { libvirtAgentCandidates } = await import('./libvirt-rpc/transport.js');
  return (t, e) => libvirtAgentCandidates(t, e, root);
}

/** Every way to try for a target, best first (the data openAgent walks). */
async function planAttempts(target: AgentTarget, options: OpenAgentOptions, ctx: CandidateContext): Promise<CandidatePlan> {
  const transport = target.transport ?? 'auto';
  if (target.socket) return { candidates: [directCandidate(target.socket, undefined, target.vmName)] };
  if (!target.vmName) {
    throw noAgentTarget();
  }
  const vmName = target.vmName;
  const uri = parseLibvirtUri(target.libvirtUri ?? ctx.env.LIBVIRT_URI ?? DEFAULT_LIBVIRT_URI);
  let plan: CandidatePlan;
  if (uri.transport === 'ssh') {
    const { remoteAgentCandidates } = await import('../remote/agent.js');
    plan = await remoteAgentCandidates({ uri, vmName, pool: ctx.ssh, transport, env: ctx.env, ...(ctx.signal ? { signal: ctx.signal } : {}) });
  } else if (uri.transport === 'tls') {
    if (transport === 'direct') {
      throw directCannotReachTls(uri.raw);
    }
    const { tlsAgentCandidate } = await import('../remote/tls.js');
    plan = { candidates: [tlsAgentCandidate(uri, vmName, ctx.env)] };
  } else {
    plan = transport !== 'libvirt' ? await localChannelPlan(vmName, uri, ctx) : { candidates: [] };
    if (transport !== 'direct') {
      const libvirt = options.libvirtCandidates ?? (await libvirtRpcCandidates(ctx.root));
      plan.candidates.push(...libvirt(target, ctx.env));
    }
  }
  if (!plan.candidates.length) {
    if (plan.notes?.length) throw plan.notes[0]!.error;
    throw noWayToAgent(vmName, transport, uri.raw);
  }
  return plan;
}

/**
 * The candidate list for a target, best first. A qemu+ssh target's candidates run over an SSH
 * connection that outlives this call: pass `options.sshPool` (and close it when done).
 */
export async function agentCandidates(target: AgentTarget, options: OpenAgentOptions = {}): Promise<AgentCandidate[]> {
  if (options.sshPool) return (await planAttempts(target, options, contextOf(options, options.sshPool))).candidates;
  const pool = new SshPool();
  try {
    const { candidates } = await planAttempts(target, options, contextOf(options, pool));
    if (pool.size) throw candidatesNeedSshPool();
    return candidates;
  } finally {
    await pool.close();
  }
}

function contextOf(options: OpenAgentOptions, ssh: SshPool): CandidateContext {
  return { env: options.env ?? process.env, ssh, ...(options.root ? { root: options.root } : {}), ...(options.signal ? { signal: options.signal } : {}) };
}

// When several candidates fail, the most telling failure decides the code.
const PRIORITY: ErrorCode[] = [
  'SOCKET_PERMISSION', 'SOCKET_HELD', 'COMMAND_DISABLED', 'TLS_VERIFY_FAILED', 'PROTOCOL_ERROR', 'AGENT_TIMEOUT', 'AGENT_DISCONNECTED',
  'LIBVIRT_AUTH', 'AGENT_NOT_CONNECTED', 'LIBVIRT_TIMEOUT', 'LIBVIRT_ERROR', 'VM_NOT_FOUND', 'SOCKET_NOT_FOUND', 'LIBVIRT_NOT_RUNNING',
];

/** A transport that also closes the private SSH pool it was opened over. */
function closingPool(t: AgentTransport, pool: SshPool): AgentTransport {
  return {
    info: t.info,
    execute: (command, args, opts) => t.execute(command, args, opts),
    async close() {
      await t.close();
      await pool.close();
    },
  };
}

/** Connects to the first candidate that completes a handshake. */
export async function openAgent(target: AgentTarget, options: OpenAgentOptions = {}): Promise<AgentClient> {
  const pool = options.sshPool ?? new SshPool();
  const own = !options.sshPool;
  try {
    const transport = await openFirst(target, options, pool);
    return new AgentClient(own && pool.size ? closingPool(transport, pool) : transport, options);
  } catch (e) {
    if (own) await pool.close();
    throw e;
  }
}

async function openFirst(target: AgentTarget, options: OpenAgentOptions, pool: SshPool): Promise<AgentTransport> {
  const plan: CandidatePlan = options.candidates ? { candidates: options.candidates } : await planAttempts(target, options, contextOf(options, pool));
  const handshakeTimeoutMs = options.handshakeTimeoutMs ?? DEFAULT_TIMEOUTS.handshakeMs;
  const failures: { label: string; error: QksError }[] = [...(plan.notes ?? [])];
  for (const c of plan.candidates) {
    try {
      return await c.open({ handshakeTimeoutMs, ...(options.signal ? { signal: options.signal } : {}) });
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
  throw unreachableError(target.vmName, main, attempts, failures.some((f) => f.error.retryable));
}

/** Opens a client, runs `fn`, closes the client (held for one operation only: the socket serves one client at a time). */
export async function withAgent<T>(target: AgentTarget, fn: (client: AgentClient) => Promise<T>, options: OpenAgentOptions = {}): Promise<T> {
  const client = await openAgent(target, options);
  try {
    return await fn(client);
  } finally {
    await client.close();
  }
}
