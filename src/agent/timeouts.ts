/**
 * Every default bound of the agent client, in one place. All in milliseconds.
 * A caller may override each per call; nothing in src/agent/ waits without one of these.
 */
export const DEFAULT_TIMEOUTS = {
  /** connect() on a unix socket: immediate unless the host is in trouble. */
  connectMs: 2_000,
  /**
   * The guest-sync answer after connecting. Short on purpose: a socket held by another client (libvirt)
   * accepts the connection and then says nothing; qemu-ga answers in about a millisecond.
   */
  handshakeMs: 3_000,
  /** One ordinary command (ping, info, file-open/read/close, exec-status). */
  commandMs: 10_000,
  /** A whole guest-exec: start, polling until exit, output. */
  execMs: 30_000,
  /** A whole file read: open, every chunk, close. */
  readFileMs: 30_000,
} as const;

/** guest-exec-status polling: start fast (cat ends in a few ms), double, stop growing here. */
export const EXEC_POLL = { firstMs: 1, maxMs: 50 } as const;
