/**
 * What a failed ssh run means (pure): ssh exits 255 for its own failures and says why on stderr.
 * One classification for every SSH use; the caller supplies the hints that fit its flags (a URI's
 * `keyfile=` or `--ssh-key`), the rest are defaults.
 */
import { QksError, type ErrorCode } from '../errors.js';
import { describeDestination, type SshDestination } from './args.js';

export type SshFailureKind = 'host-key' | 'auth' | 'timeout' | 'refused' | 'unresolved' | 'forwarding' | 'other';

/** The kind of an ssh failure from its stderr. */
export function sshFailureKind(stderr: string): SshFailureKind {
  if (/Host key verification failed|REMOTE HOST IDENTIFICATION HAS CHANGED|host key is known|Host key for .* has changed/i.test(stderr)) return 'host-key';
  if (/Permission denied \(|Too many authentication failures|no mutual signature|Authentication failed/i.test(stderr)) return 'auth';
  if (/timed out|Connection timeout/i.test(stderr)) return 'timeout';
  if (/Could not resolve|Name or service not known|nodename nor servname/i.test(stderr)) return 'unresolved';
  if (/Connection refused|No route to host|Network is unreachable|Connection reset|Connection closed/i.test(stderr)) return 'refused';
  if (/open failed|administratively prohibited|forwarding/i.test(stderr)) return 'forwarding';
  return 'other';
}

export type SshHints = Partial<Record<SshFailureKind, string>>;

const CODES: Record<SshFailureKind, ErrorCode> = {
  'host-key': 'SSH_HOST_KEY',
  auth: 'SSH_AUTH',
  timeout: 'SSH_TIMEOUT',
  refused: 'SSH_FAILED',
  unresolved: 'SSH_FAILED',
  forwarding: 'SSH_FAILED',
  other: 'SSH_FAILED',
};

function defaultHints(dest: SshDestination): Record<SshFailureKind, string> {
  const port = dest.port ? `-p ${dest.port} ` : '';
  return {
    'host-key': `Check the key's fingerprint and add it to known_hosts (ssh-keyscan ${port}${dest.host} >> ~/.ssh/known_hosts, or log in once with ssh).`,
    auth: `Give a key the server accepts (an ssh-agent, or IdentityFile in ~/.ssh/config; install it with ssh-copy-id ${port}${describeDestination({ host: dest.host, ...(dest.user ? { user: dest.user } : {}) })}).`,
    timeout: 'Check that the host is up and that nothing drops SSH on the way (address, port, firewall).',
    refused: 'Is sshd running on that host and port?',
    unresolved: 'Check the host name.',
    forwarding: 'sshd must allow unix-socket forwarding: AllowStreamLocalForwarding yes (the default) and no DisableForwarding.',
    other: 'Run the same with ssh -v to see why.',
  };
}

/** ssh's last few stderr lines, without the known_hosts chatter. */
export function sshSaid(stderr: string): string {
  const lines = stderr.split('\n').map((l) => l.trim()).filter((l) => l && !/^Warning: Permanently added/.test(l));
  return lines.slice(-3).join(' / ') || 'no message';
}

/** Maps a failed ssh run (exit 255, its stderr) to our error codes, with what to do. */
export function classifySshFailure(stderr: string, dest: SshDestination, what = 'connect', hints: SshHints = {}): QksError {
  const where = describeDestination(dest);
  const said = sshSaid(stderr);
  const kind = sshFailureKind(stderr);
  const details = { host: dest.host, ...(dest.port ? { port: dest.port } : {}), ...(dest.user ? { user: dest.user } : {}), ssh: said.slice(0, 500) };
  const hint = hints[kind] ?? defaultHints(dest)[kind];
  const message =
    kind === 'host-key' ? `ssh ${where}: the host key is unknown or has changed (${said})`
    : kind === 'auth' ? `ssh ${where}: ${said} — the server refused the SSH key`
    : kind === 'timeout' ? `ssh ${where}: timed out (${said})`
    : `ssh ${where}: cannot ${what} (${said})`;
  return new QksError(CODES[kind], message, { hint, details, ...(kind === 'refused' ? { retryable: true } : {}) });
}

/** ssh gave no answer within the bound. */
export function sshTimeout(where: string, what: string, timeoutMs: number): QksError {
  return new QksError('SSH_TIMEOUT', `ssh ${where}: no answer to ${what} within ${timeoutMs} ms`, { hint: 'Check the host and the network; try again.' });
}

/** The remote command wrote more than the caller's bound (callers with a domain error pass their own). */
export function sshOutputTooLarge(where: string, maxBytes: number): QksError {
  return new QksError('SSH_FAILED', `ssh ${where}: more than ${maxBytes} bytes of output`);
}

/** The ssh client could not be started at all (spawn's error). */
export function sshNotRunnable(command: string, e: NodeJS.ErrnoException): QksError {
  if (e.code === 'ENOENT') {
    return new QksError('SSH_FAILED', `no ssh client (${command}) on PATH`, { hint: 'Install the OpenSSH client (openssh-clients on RHEL, openssh-client on Debian).', cause: e });
  }
  return new QksError('SSH_FAILED', `cannot run ${command}: ${e.message}`, { cause: e });
}

/** A connection used after close(): our own mistake, not the user's. */
export function sshClosed(via: string): QksError {
  return new QksError('INTERNAL', `ssh connection to ${via} already closed`);
}

/** keyfile= in a qemu+ssh URI names no file. */
export function sshKeyfileMissing(keyfile: string): QksError {
  return new QksError('INPUT_NOT_FOUND', `keyfile ${keyfile} does not exist`, { hint: 'Fix keyfile= in the URI.' });
}
