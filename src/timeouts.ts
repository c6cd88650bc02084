/**
 * Every default bound, in one table (milliseconds unless the name says otherwise). Callers override per
 * call; nothing waits without one of these. Modules keep their old exported names as aliases of rows
 * here (src/agent/timeouts.ts DEFAULT_TIMEOUTS, src/ssh/connection.ts DEFAULT_SSH_TIMEOUTS).
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
  /** kubeconfig --wait retrying a retryable failure (src/kubeconfig/fetch.ts withWait): the first pause, growing by half each time up to maxMs. */
  waitRetry: { firstMs: 100, maxMs: 500 },
  /** kubeconfig --ready (src/kubeconfig/ready.ts); the whole wait is bounded by --timeout. */
  ready: {
    /** TCP connect: a SYN answered by nothing for this long is a firewall or NAT dropping it, not a slow boot. */
    connectMs: 5_000,
    /** One request, connect to last byte. */
    requestMs: 10_000,
    /** Pause between polls: /readyz turns 200 within about a second of its last check passing. */
    pollMs: 250,
  },
  /** kubeconfig --wait: once the file is there, how long an API server that does not answer yet is waited for (TLS check), and the pause between checks. */
  apiGrace: { waitMs: 30_000, pollMs: 500 },
  /** kubeconfig --merge: kubectl's `<file>.lock` (src/kubeconfig/merge-file.ts); a kubectl write holds it for ms. */
  mergeLock: { waitMs: 10_000, pollMs: 50 },
  /** The kubeconfig's address check (src/kubeconfig/tls.ts): the whole TLS handshake; a reachable API server answers in ms. */
  apiTlsCheckMs: 3_000,
  /** libvirtd's RPC (src/agent/libvirt-rpc/transport.ts) and its remote carriers (src/remote/). */
  libvirt: {
    /** libvirt adds its own guest-sync (up to 5 s when the agent is silent) before our command's timeout. */
    rpcMarginMs: 1_000,
    /** CONNECT_CLOSE on the way out: a courtesy, never worth waiting for. */
    closeMs: 500,
    /** qemu+tls: added to the (local) handshake bound, for the network round trip of each step. */
    tlsExtraMs: 2_000,
    /** qemu+ssh: added to connect + handshake for the remote helper's start, auth and open there (polkit, a round trip per step). */
    remoteStartExtraMs: 5_000,
    /** The remote helper's stream closed: how long its exit status is waited for, to say why (src/remote/libvirtd.ts). */
    helperExitMs: 1_000,
  },
  /** One remote channel scan serves a batch of VMs for this long (src/remote/discover.ts). */
  remoteScanTtlMs: 5_000,
  /** The SSH hop (src/ssh/connection.ts). */
  ssh: {
    /** ssh's ConnectTimeout (TCP connect + banner), seconds. */
    connectSec: 10,
    /** Bound on establishing the master (connect + key exchange + auth), ms. */
    masterMs: 20_000,
    /** Bound on one remote command or mux request through the master, ms. */
    commandMs: 15_000,
    /** The master exits by itself after this long with no channel open, seconds. */
    persistSec: 60,
    /** How long close() waits for the master process to be gone, ms. */
    exitMs: 2_000,
  },
  /** kubeconfig --method ssh (src/kubeconfig/ssh.ts): the whole read is ssh.connectSec plus this, seconds. */
  sshReadExtraSec: 20,
  /** close(): how often the master's pid is polled until it is gone (within ssh.exitMs). */
  sshExitPollMs: 5,
  /** stat / getfattr reading one file's SELinux label (src/host/selinux.ts). */
  selinuxProbeMs: 5_000,
  /** doctor's TCP connect and TLS check of the API address (src/doctor/checks/api-*.ts). */
  doctorApiMs: 2_000,
  /** Before exit, waiting for stdout's last write to reach the OS, so a late failure is still reported (src/cli/output.ts). */
  stdoutFlushMs: 2_000,
} as const;
