/**
 * The one place that chooses and opens a way to a guest agent. Each way makes its own candidates
 * (data: a label and an open()), this file orders them and tries them:
 *   --socket PATH                  the direct transport on that socket (./direct-candidate.ts)
 *   a VM name                      its libvirt URI's ways (./vm-plan.ts: channel sockets, libvirtd's RPC
 *                                  socket, qemu+ssh://, qemu+tls://)
 * The candidate types live beside the transport interface (./transport.ts), so none of those files
 * imports this one. If every candidate fails, one QksError lists each one and why.
 * A VM name's ways are imported when a target names one: a `--socket` run compiles none of libvirt's
 * paths, URIs, RPC, SSH or TLS (bench/startup.md).
 */
import { toQksError, type ErrorCode, type QksError } from '../errors.js';
import { SshPool } from '../ssh/pool.js';
import { AgentClient, type AgentClientOptions } from './client.js';
import { directCandidate } from './direct-candidate.js';
import { candidatesNeedSshPool, noAgentTarget, unreachableError, type AttemptFailure } from './errors.js';
import { DEFAULT_TIMEOUTS } from './timeouts.js';
import type { AgentCandidate, AgentTarget, AgentTransport, CandidateContext, CandidatePlan } from './transport.js';
import type { LibvirtCandidates } from './vm-plan.js';
import type { CancelSignal } from '../cancel.js';

export type { AgentCandidate, AgentTarget } from './transport.js';

export interface OpenAgentOptions extends AgentClientOptions {
  /** Bound on each candidate's handshake (ms). Default DEFAULT_TIMEOUTS.handshakeMs. */
  handshakeTimeoutMs?: number;
  signal?: CancelSignal;
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
  libvirtCandidates?: LibvirtCandidates;
  /** Replaces the candidate list entirely (tests, other hops). */
  candidates?: AgentCandidate[];
}

export type { AttemptFailure } from './errors.js';

/** Every way to try for a target, best first (the data openAgent walks). */
async function planAttempts(target: AgentTarget, options: OpenAgentOptions, ctx: CandidateContext): Promise<CandidatePlan> {
  if (target.socket) return { candidates: [directCandidate(target.socket, 'socket', undefined, target.vmName)] };
  if (!target.vmName) throw noAgentTarget();
  const { vmPlan } = await import('./vm-plan.js');
  return vmPlan({ ...target, vmName: target.vmName }, ctx, options.libvirtCandidates);
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
