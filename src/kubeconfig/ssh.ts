/**
 * The SSH fallback: read a file from the VM with the system OpenSSH client (the user's ssh config,
 * agent and known_hosts are honoured). BatchMode so it never prompts; a connect timeout; the key and
 * user given.
 *
 * No shell injection through the path: ssh hands its command line to the remote login shell, so the
 * path is never put on it. The remote command is a constant script that reads the path from stdin
 * (`IFS= read -r`), and the path is data from there on. Not root and not readable: the script tries
 * `doas -n` (what Alpine uses), then `sudo -n`, never prompting.
 */
import type { QksError } from '../errors.js';
import { TIMEOUTS } from '../timeouts.js';
import { checkRemotePath } from './remote-path.js';
import { kubeconfigDenied, kubeconfigNotYet, kubeconfigTooLarge, remotePathInvalid, sshNoShell, sshReadFailed } from './errors.js';
import { classifySshFailure, describeDestination, runSsh, sshBaseArgs, type SshDestination } from '../ssh/index.js';
import type { CancelSignal } from '../cancel.js';

export interface SshTarget {
  /** Host name or IP of the VM (--vm-ip). */
  host: string;
  /** Remote user (--ssh-user, VM_USER; default alpine). */
  user?: string;
  port?: number;
  /** Private key file (--ssh-key); when given, only this key is offered. */
  key?: string;
  /** Extra `-o Key=Value` options, before ours so they win (ssh takes the first value of each option). */
  options?: string[];
  /** ssh's ConnectTimeout, seconds. Default 10. */
  connectTimeoutSec?: number;
  /** The ssh binary. Default `ssh` from PATH. */
  command?: string;
}

export const DEFAULT_SSH_CONNECT_TIMEOUT_SEC = TIMEOUTS.ssh.connectSec;

/**
 * One line, no single quotes, nothing csh would expand: runs under `sh -c` whatever the login shell.
 * Exit 97: no path arrived on stdin.
 */
export const REMOTE_READ_SCRIPT =
  'IFS= read -r p || exit 97; ' +
  'if [ -r "$p" ] || [ "$(id -u)" = 0 ]; then exec cat -- "$p"; fi; ' +
  'if command -v doas >/dev/null 2>&1; then exec doas -n cat -- "$p"; fi; ' +
  'if command -v sudo >/dev/null 2>&1; then exec sudo -n cat -- "$p"; fi; ' +
  'exec cat -- "$p"';

function destinationOf(t: SshTarget): SshDestination {
  return {
    host: t.host,
    ...(t.user ? { user: t.user } : {}),
    ...(t.port ? { port: t.port } : {}),
    ...(t.key ? { keyfile: t.key, identitiesOnly: true } : {}),
    // a fresh VM has a key nobody has seen: trust it the first time, refuse it if it later changes
    hostKey: 'accept-new',
    ...(t.options?.length ? { options: t.options } : {}),
  };
}

/** The ssh argument vector (everything but the binary), built by the one SSH module (src/ssh/args.ts). */
export function sshArgs(t: SshTarget): string[] {
  // QKS_SSH_CONFIG is the qemu+ssh hop's; this verb honours the user's own ssh config
  const base = sshBaseArgs(destinationOf(t), { connectTimeoutSec: t.connectTimeoutSec ?? DEFAULT_SSH_CONNECT_TIMEOUT_SEC, logLevel: 'ERROR' }, {});
  // `--` ends ssh's options; a host starting with '-' is refused by validation anyway
  return [...base, '--', t.host, `sh -c '${REMOTE_READ_SCRIPT}'`];
}

function where(t: SshTarget): string {
  return describeDestination({ host: t.host, ...(t.user ? { user: t.user } : {}), ...(t.port ? { port: t.port } : {}) });
}

/** What fixes an SSH failure of `kubeconfig --method ssh`: its own flags. */
function vmHints(t: SshTarget) {
  return {
    'host-key': 'If the VM was re-created, remove its old key: ssh-keygen -R ' + t.host,
    auth: "Pass the private key whose public half is in the VM user's authorized_keys (--ssh-key), and the right --ssh-user.",
    timeout: 'Check --vm-ip and that the VM is up (or use --wait).',
    refused: 'The VM is still booting or sshd is not running; --wait retries.',
    unresolved: 'Check --vm-ip.',
  };
}

/** Turns a failed ssh run into the error that says what to do. */
export function sshFailure(t: SshTarget, path: string, exitCode: number | null, stderr: string): QksError {
  const at = where(t);
  const msg = stderr.trim().split('\n').filter(Boolean).slice(-3).join(' / ');
  const details = { host: t.host, port: t.port ?? 22, user: t.user, exitCode, stderr: msg.slice(0, 500) };
  if (exitCode === 255) return classifySshFailure(stderr, destinationOf(t), 'connect', vmHints(t));
  if (/No such file or directory/i.test(stderr)) {
    return kubeconfigNotYet(path, { details });
  }
  if (/Permission denied|not permitted|password is required|Authentication|Authorization/i.test(stderr)) {
    return kubeconfigDenied(path, t.user ?? 'the SSH user', 'Use root, or allow the user `doas` / passwordless `sudo` for cat (the artifacts doas rule does).', { details });
  }
  if (exitCode === 127) {
    return sshNoShell(at, msg, details);
  }
  return sshReadFailed(path, exitCode, msg, details);
}

/** Reads `path` from the VM over SSH. Bounded by `timeoutMs` and `maxBytes`; killed on abort. */
export function sshReadFile(
  t: SshTarget,
  path: string,
  opts: { maxBytes: number; timeoutMs?: number; signal?: CancelSignal },
): Promise<Buffer> {
  const bad = checkRemotePath(path);
  if (bad) return Promise.reject(remotePathInvalid(path, bad));
  const timeoutMs = opts.timeoutMs ?? ((t.connectTimeoutSec ?? DEFAULT_SSH_CONNECT_TIMEOUT_SEC) + TIMEOUTS.sshReadExtraSec) * 1000;
  return runSsh(t.command ?? 'ssh', sshArgs(t), {
    timeoutMs,
    ...(opts.signal ? { signal: opts.signal } : {}),
    where: where(t),
    what: `reading ${path}`,
    stdin: path + '\n',
    maxStdoutBytes: opts.maxBytes,
    tooLarge: () => kubeconfigTooLarge(opts.maxBytes),
  }).then((r) => {
    if (r.code === 0) return r.stdout;
    throw sshFailure(t, path, r.code, r.stderr);
  });
}
