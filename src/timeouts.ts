/**
 * Every default bound of the agent path, in one table (milliseconds unless the name says otherwise).
 * Callers override per call; nothing waits without one of these. Other modules add their rows here
 * as they adopt src/deadline.ts.
 */
export const TIMEOUTS = {
  agent: {
    /** connect() on a unix socket: immediate unless the host is in trouble. */
    connectMs: 2_000,
    /**
     * The guest-sync answer after connecting. Short on purpose: a socket held by another client (libvirt)
     * accepts the connection and then says nothing; qemu-ga answers in about a millisecond. A caller's
     * longer --timeout raises it (a slow agent is not a held socket).
     */
    handshakeMs: 3_000,
    /** One ordinary command (ping, info, file-open/read/close, exec-status). */
    commandMs: 10_000,
    /** A whole guest-exec: start, polling until exit, output. */
    execMs: 30_000,
    /** A whole file read: open, every chunk, close. */
    readFileMs: 30_000,
    /** guest-file-close after a read: a courtesy that must not hold up the result. */
    closeHandleMs: 2_000,
    /**
     * Waiting for our own turn on a socket another qemu-kubesolo process (or caller in this process)
     * is using (src/agent/lock.ts). Each holder keeps it for one operation (ms to ~100 ms on a channel).
     */
    lockWaitMs: 30_000,
    /** On close after a timed-out command: how long to wait for its late reply, to free what it opened in the guest. */
    drainMs: 1_000,
  },
  /** EAGAIN ("listen queue full") on connect: retried within the handshake bound, jittered. */
  connectRetry: { firstMs: 5, maxMs: 200 },
  /** Waiting for the per-socket lock: jittered polls between these; the holder has `askMs` to say who it is. */
  lockRetry: { firstMs: 2, maxMs: 100, askMs: 200 },
  /** guest-exec-status polling: start fast (cat ends in a few ms), double, stop growing here. */
  execPoll: { firstMs: 1, maxMs: 50 },
} as const;
