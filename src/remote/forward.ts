/**
 * A remote unix socket made local: OpenSSH's unix-socket forwarding (`-L LOCAL.sock:REMOTE.sock`,
 * OpenSSH >= 6.7), added to the shared master with `ssh -O forward` and removed with `-O cancel`.
 *
 * Why this way: it needs nothing on the hypervisor but sshd with `AllowStreamLocalForwarding` (on by
 * default; `DisableForwarding yes` turns it off). The other way, a remote command whose stdio is the
 * socket, needs socat, nc or python there, which a minimal RHEL does not promise. sshd opens the
 * remote socket as the SSH user, so that user needs the socket's permissions (root or the qemu group).
 *
 * The local end lives in the connection's private 0700 dir and ssh binds it 0600 (StreamLocalBindMask):
 * no other local user can reach the guest through it. close() cancels the forward and removes the file.
 */
import { rmSync } from 'node:fs';
import { forwardPathInvalid } from './errors.js';
import type { SshHost } from '../ssh/index.js';
import type { CancelSignal } from '../cancel.js';

export interface RemoteSocketForward {
  /** The local end: connect here to reach `remotePath`. */
  socketPath: string;
  remotePath: string;
  /** `user@host:port`. */
  via: string;
  /** Cancels the forward and removes the local socket. Idempotent; never throws. */
  close(): Promise<void>;
}

/** Forwards `remotePath` on the host behind `ssh` to a fresh local socket. */
export async function forwardRemoteSocket(ssh: SshHost, remotePath: string, options: { signal?: CancelSignal } = {}): Promise<RemoteSocketForward> {
  if (remotePath.includes(':') || !remotePath.startsWith('/')) {
    throw forwardPathInvalid(remotePath);
  }
  const socketPath = ssh.localSocketPath();
  const spec = ['-L', `${socketPath}:${remotePath}`];
  try {
    await ssh.control('forward', spec, options.signal);
  } catch (e) {
    rmSync(socketPath, { force: true });
    throw e;
  }
  let closed = false;
  return {
    socketPath,
    remotePath,
    via: ssh.via,
    async close() {
      if (closed) return;
      closed = true;
      // ssh does not unlink the local socket on cancel: we do
      if (!ssh.isClosed) await ssh.control('cancel', spec).catch(() => undefined);
      rmSync(socketPath, { force: true });
    },
  };
}
