/**
 * The seam between the agent client and the ways of reaching a guest agent.
 *
 * A transport sends one guest-agent command and returns its `return` value. The direct transport
 * (a unix socket: handshake, framing) and the libvirt transport (libvirtd's RPC socket, which does the
 * guest-sync itself) both implement it, so every agent operation works the same over either.
 */

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
  signal?: AbortSignal;
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
