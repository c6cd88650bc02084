/**
 * The seam between the agent client and the ways of reaching a guest agent.
 *
 * A transport sends one guest-agent command and returns its `return` value. The direct transport
 * (a unix socket: handshake, framing) and the libvirt transport (libvirtd's RPC socket, which does the
 * guest-sync itself) both implement it, so every agent operation works the same over either.
 */
import type { QksError } from '../errors.js';
import type { SshPool } from '../ssh/pool.js';
import type { CancelSignal } from '../cancel.js';

export type TransportKind = 'direct' | 'libvirt';

/** Where a transport goes; printed by `--verbose` and in `--json` results. */
export interface TransportInfo {
  kind: TransportKind;
  /** The unix socket opened (channel socket, libvirtd socket, or a local end of an SSH forward). */
  socketPath?: string;
  /** The virtio-serial channel name, when known (org.qemu.guest_agent.0 / .1). */
  channel?: string;
  /** The libvirt connection URI, for the libvirt transport or a remote hop. */
  uri?: string;
  /** The libvirt domain name, when known. */
  domain?: string;
  /** A remote hop (`user@host:port`) when the socket is reached over SSH. */
  via?: string;
}

export interface ExecuteOptions {
  /** Bound on this one command, in milliseconds. Defaults: see DEFAULT_TIMEOUTS in ./timeouts.ts. */
  timeoutMs?: number;
  /** Stops waiting (e.g. Ctrl-C); the connection resynchronises before its next command. */
  signal?: CancelSignal;
}

export interface AgentTransport {
  readonly info: TransportInfo;
  /**
   * Sends `{"execute": command, "arguments": args}` and resolves with the reply's `return` value.
   * Rejects with a QksError: COMMAND_DISABLED, COMMAND_FAILED (agent class/desc in details),
   * AGENT_TIMEOUT, AGENT_DISCONNECTED, PROTOCOL_ERROR, ...
   */
  execute(command: string, args?: Record<string, unknown>, options?: ExecuteOptions): Promise<unknown>;
  /** Releases the connection. Idempotent. Never throws. */
  close(): Promise<void>;
}

/** What to reach: `--socket`, or a VM name resolved through a libvirt URI. */
export interface AgentTarget {
  /** An explicit socket path: wins over everything else. */
  socket?: string;
  /** The libvirt domain name. */
  vmName?: string;
  /** Default LIBVIRT_URI, else qemu:///system. */
  libvirtUri?: string;
  /**
   * `auto` (default): the dedicated channel (local or forwarded over SSH), then libvirtd;
   * `direct`: channel sockets only; `libvirt`: libvirtd only (local socket, over SSH, or TLS).
   */
  transport?: 'auto' | 'direct' | 'libvirt';
}

/** One way to reach the agent. `open` must close whatever it opened when it fails. */
export interface AgentCandidate {
  /** Human label for messages, e.g. `dedicated channel /run/libvirt/qemu/channel/1-vm/org.qemu.guest_agent.1`. */
  label: string;
  kind: 'direct' | 'libvirt' | 'ssh';
  open(options: { handshakeTimeoutMs: number; signal?: CancelSignal }): Promise<AgentTransport>;
}

/** What the candidate makers get from the chooser (src/agent/connect.ts). */
export interface CandidateContext {
  env: NodeJS.ProcessEnv;
  /** Prefix for libvirt's local paths (tests). Default `/`. */
  root?: string;
  signal?: CancelSignal;
  /** SSH connections for remote URIs: owned by the caller of openAgent (src/ssh/pool.ts). */
  ssh: SshPool;
}

/** Candidates, plus why a part of the search found nothing (reported beside the candidates' failures). */
export interface CandidatePlan {
  candidates: AgentCandidate[];
  /** E.g. channel discovery found no socket: the error to report when every candidate fails too. */
  notes?: { label: string; error: QksError }[];
}
