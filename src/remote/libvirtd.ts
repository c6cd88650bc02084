/**
 * libvirtd's RPC over the SSH connection, as libvirt's own client does it: on the far side
 * `virt-ssh-helper URI` when it is there, else `nc -U <libvirtd socket>` (libvirt's proxy=auto|native|
 * netcat, socket=, netcat=), and the same XDR session the local transport speaks
 * (src/agent/libvirt-rpc/) on that command's stdio. The far side's libvirtd authenticates the SSH user
 * as a local client: root with none, the libvirt group with polkit.
 *
 * The command runs through the host's ControlMaster (src/ssh/connection.ts), so many VMs of one host
 * share one SSH connection; each opened transport has its own channel and session.
 */
import { Duplex } from 'node:stream';
import type { ChildProcess } from 'node:child_process';
import { toQksError } from '../errors.js';
import { LibvirtSession } from '../agent/libvirt-rpc/session.js';
import { startLibvirtConnection, type LibvirtConnection, type LibvirtTransport } from '../agent/libvirt-rpc/transport.js';
import { DEFAULT_TIMEOUTS } from '../agent/timeouts.js';
import { TIMEOUTS } from '../timeouts.js';
import type { LibvirtUri } from '../libvirt/uri.js';
import { classifySshFailure, type SshHost } from '../ssh/index.js';
import { remoteHelperError } from './errors.js';
import { remoteHelper, uriSshHints, type RemoteHelper } from './destination.js';
import type { CancelSignal } from '../cancel.js';

/**
 * The far side's command (constant; every value is an argument): $1 proxy, $2 URI, $3 socket or '',
 * $4 netcat. Exits 98: proxy=native without virt-ssh-helper; 97: no netcat; 99: no libvirtd socket.
 * nc gets -q0 where it knows it (so it ends when we close), as libvirt's own snippet does.
 */
export const REMOTE_HELPER_SCRIPT = [
  'P=$1; N=$2; S=$3; NC=$4;',
  'if [ "$P" != netcat ] && command -v virt-ssh-helper >/dev/null 2>&1; then exec virt-ssh-helper "$N"; fi;',
  'if [ "$P" = native ]; then echo "virt-ssh-helper: not found" >&2; exit 98; fi;',
  'if [ -z "$S" ]; then for s in /var/run/libvirt/libvirt-sock /var/run/libvirt/virtqemud-sock; do if [ -S "$s" ]; then S=$s; break; fi; done; fi;',
  'if [ -z "$S" ]; then echo "no libvirtd socket: libvirtd is not running" >&2; exit 99; fi;',
  'command -v "$NC" >/dev/null 2>&1 || { echo "$NC: not found" >&2; exit 97; };',
  'if "$NC" -q 2>&1 | grep "requires an argument" >/dev/null 2>&1; then exec "$NC" -q0 -U "$S"; fi;',
  'exec "$NC" -U "$S"',
].join(' ');

/**
 * Bound on the remote helper's start (a process on the far side) + authentication + open, once the
 * SSH connection is up: a local libvirtd answers in ms, a far one pays a round trip per step and
 * polkit there.
 */
export const REMOTE_START_MS = DEFAULT_TIMEOUTS.connectMs + DEFAULT_TIMEOUTS.handshakeMs + TIMEOUTS.libvirt.remoteStartExtraMs;

export function remoteHelperArgs(h: RemoteHelper): string[] {
  return [h.proxy, h.name, h.socket ?? '', h.netcat];
}

/** A child's stdout/stdin as one byte stream; destroying it ends the child. */
class ChildStream extends Duplex {
  constructor(private readonly child: ChildProcess) {
    super();
    child.stdout!.on('data', (d: Buffer) => this.push(d));
    child.stdout!.on('end', () => this.push(null));
    child.stdin!.on('error', () => {}); // the exit status says why
    child.once('close', () => this.destroy());
  }
  override _read(): void {}
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (e?: Error | null) => void): void {
    this.child.stdin!.write(chunk, cb);
  }
  override _destroy(err: Error | null, cb: (e?: Error | null) => void): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGTERM');
    cb(err);
  }
}

export interface LibvirtOverSshOptions {
  /** Bound on helper start + authentication + open (+ lookup). Default connectMs + handshakeMs. */
  timeoutMs?: number;
  commandTimeoutMs?: number;
  signal?: CancelSignal;
}

/**
 * An opened libvirtd session on the host behind `ssh` (one SSH channel), for any number of its
 * domains: `lookup(name)` each. The caller closes it.
 */
export async function connectLibvirtOverSsh(ssh: SshHost, uri: LibvirtUri, o: LibvirtOverSshOptions = {}): Promise<LibvirtConnection> {
  const helper = remoteHelper(uri);
  // the SSH connection has its own bound (DEFAULT_SSH_TIMEOUTS.masterMs): this one starts once it is up
  const child = await ssh.spawnStdio(REMOTE_HELPER_SCRIPT, remoteHelperArgs(helper), o.signal);
  const deadline = performance.now() + (o.timeoutMs ?? REMOTE_START_MS);
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => {
    if (stderr.length < 16_384) stderr += d;
  });
  const exited = new Promise<number | null>((r) => child.once('close', (code) => r(code)));
  const session = LibvirtSession.over(new ChildStream(child), `libvirtd on ${ssh.via} (over ssh)`);
  try {
    return await startLibvirtConnection(session, { uri: uri.raw, openUri: helper.name, deadline, commandTimeoutMs: o.commandTimeoutMs, via: ssh.via });
  } catch (e) {
    const err = toQksError(e);
    child.kill('SIGTERM');
    // the session only saw the stream close: the helper's exit and stderr say why
    if (err.code === 'LIBVIRT_ERROR' && session.streamEnd?.kind === 'closed') {
      const code = await Promise.race([exited, new Promise<null>((r) => setTimeout(() => r(null), TIMEOUTS.libvirt.helperExitMs))]);
      if (code === 255) throw classifySshFailure(stderr, ssh.dest, 'start the libvirt helper', uriSshHints(ssh.dest));
      throw remoteHelperError(ssh.via, code, stderr, helper.proxy);
    }
    throw err;
  }
}

/** libvirtd's RPC on the host behind `ssh`, for one domain (its own session; close() ends it). */
export async function openLibvirtOverSsh(ssh: SshHost, uri: LibvirtUri, o: LibvirtOverSshOptions & { domain: string }): Promise<LibvirtTransport> {
  const conn = await connectLibvirtOverSsh(ssh, uri, o);
  try {
    return await conn.lookup(o.domain, { owns: true, ...(o.timeoutMs ? { timeoutMs: o.timeoutMs } : {}) });
  } catch (e) {
    await conn.close();
    throw e;
  }
}
