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
import { spawn } from 'node:child_process';
import { abortError, QksError } from '../errors.js';

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

export const DEFAULT_SSH_CONNECT_TIMEOUT_SEC = 10;

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

/** Paths we will send: absolute, one line, no NUL. */
export function checkRemotePath(path: string): string | undefined {
  if (!path.startsWith('/')) return 'must be an absolute path';
  if (/[\0\n\r]/.test(path)) return 'must not contain NUL or line breaks';
  if (path.length > 4096) return 'is too long';
  return undefined;
}

/** The ssh argument vector (everything but the binary). */
export function sshArgs(t: SshTarget): string[] {
  const args: string[] = [];
  for (const o of t.options ?? []) args.push('-o', o);
  args.push(
    '-o', 'BatchMode=yes',
    '-o', `ConnectTimeout=${t.connectTimeoutSec ?? DEFAULT_SSH_CONNECT_TIMEOUT_SEC}`,
    // a fresh VM has a key nobody has seen: trust it the first time, refuse it if it later changes
    '-o', 'StrictHostKeyChecking=accept-new',
    '-o', 'LogLevel=ERROR',
    '-T',
  );
  if (t.key) args.push('-i', t.key, '-o', 'IdentitiesOnly=yes');
  if (t.port) args.push('-p', String(t.port));
  if (t.user) args.push('-l', t.user);
  // `--` ends ssh's options; a host starting with '-' is refused by validation anyway
  args.push('--', t.host, `sh -c '${REMOTE_READ_SCRIPT}'`);
  return args;
}

function where(t: SshTarget): string {
  return `${t.user ? `${t.user}@` : ''}${t.host}${t.port ? `:${t.port}` : ''}`;
}

/** Turns a failed ssh run into the error that says what to do. */
export function sshFailure(t: SshTarget, path: string, exitCode: number | null, stderr: string): QksError {
  const at = where(t);
  const msg = stderr.trim().split('\n').filter(Boolean).slice(-3).join(' / ');
  const details = { host: t.host, port: t.port ?? 22, user: t.user, exitCode, stderr: msg.slice(0, 500) };
  if (exitCode === 255) {
    if (/Host key verification failed|REMOTE HOST IDENTIFICATION HAS CHANGED|No .* host key is known/i.test(stderr)) {
      return new QksError('SSH_HOST_KEY', `the host key of ${at} does not match known_hosts`, {
        hint: 'If the VM was re-created, remove its old key: ssh-keygen -R ' + t.host,
        details,
      });
    }
    if (/Permission denied|Too many authentication failures|no mutual signature/i.test(stderr)) {
      return new QksError('SSH_AUTH', `${at} refused the SSH key`, {
        hint: 'Pass the private key whose public half is in the VM user\'s authorized_keys (--ssh-key), and the right --ssh-user.',
        details,
      });
    }
    if (/timed out|Connection timed out/i.test(stderr)) {
      return new QksError('SSH_TIMEOUT', `no SSH connection to ${at}: ${msg}`, { hint: 'Check --vm-ip and that the VM is up (or use --wait).', details });
    }
    if (/Connection refused|No route to host|Network is unreachable|Connection reset|Connection closed/i.test(stderr)) {
      return new QksError('SSH_FAILED', `no SSH connection to ${at}: ${msg}`, {
        hint: 'The VM is still booting or sshd is not running; --wait retries.',
        retryable: true,
        details,
      });
    }
    return new QksError('SSH_FAILED', `ssh to ${at} failed: ${msg}`, { hint: 'Run the same ssh by hand with -v to see why.', details });
  }
  if (/No such file or directory/i.test(stderr)) {
    return new QksError('GUEST_FILE_NOT_FOUND', `${path} does not exist in the VM (yet)`, {
      hint: 'Kubesolo writes it when it has started (2-3 minutes after boot); use --wait.',
      details,
    });
  }
  if (/Permission denied|not permitted|password is required|Authentication|Authorization/i.test(stderr)) {
    return new QksError('GUEST_FILE_PERMISSION', `${t.user ?? 'the SSH user'} may not read ${path} in the VM`, {
      hint: 'Use root, or allow the user `doas` / passwordless `sudo` for cat (the artifacts doas rule does).',
      details,
    });
  }
  if (exitCode === 127) {
    return new QksError('SSH_FAILED', `the VM has no POSIX sh or cat for ${at}: ${msg}`, { details });
  }
  return new QksError('SSH_FAILED', `reading ${path} over SSH failed (exit ${exitCode}): ${msg}`, { details });
}

/** Reads `path` from the VM over SSH. Bounded by `timeoutMs` and `maxBytes`; killed on abort. */
export function sshReadFile(
  t: SshTarget,
  path: string,
  opts: { maxBytes: number; timeoutMs?: number; signal?: AbortSignal },
): Promise<Buffer> {
  const bad = checkRemotePath(path);
  if (bad) return Promise.reject(new QksError('CONFIG_INVALID', `--remote-path ${JSON.stringify(path)}: ${bad}`));
  return new Promise((resolve, reject) => {
    const child = spawn(t.command ?? 'ssh', sshArgs(t), { stdio: ['pipe', 'pipe', 'pipe'] });
    const chunks: Buffer[] = [];
    let size = 0;
    let stderr = '';
    let failure: QksError | undefined;
    const stop = (e: QksError) => {
      failure ??= e;
      child.kill('SIGKILL');
    };
    const timeoutMs = opts.timeoutMs ?? ((t.connectTimeoutSec ?? DEFAULT_SSH_CONNECT_TIMEOUT_SEC) + 20) * 1000;
    const timer = setTimeout(
      () => stop(new QksError('SSH_TIMEOUT', `ssh to ${where(t)} did not finish within ${timeoutMs} ms`, { hint: 'Check the VM and the network; try again.' })),
      timeoutMs,
    );
    const onAbort = () => stop(abortError(opts.signal!));
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    child.stdout.on('data', (d: Buffer) => {
      size += d.length;
      if (size > opts.maxBytes) {
        stop(
          new QksError('KUBECONFIG_INVALID', `the retrieved kubeconfig is larger than ${opts.maxBytes} bytes: not a kubeconfig`, {
            hint: 'Check the file in the guest (--remote-path) is the Kubesolo admin kubeconfig; nothing was written.',
            details: { maxBytes: opts.maxBytes },
          }),
        );
        return;
      }
      chunks.push(d);
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      if (stderr.length < 64 * 1024) stderr += d;
    });
    child.stdin.on('error', () => {}); // ssh may exit before reading stdin (auth failure): its exit code says why
    child.stdin.end(path + '\n');
    child.on('error', (e: NodeJS.ErrnoException) => {
      stop(
        e.code === 'ENOENT'
          ? new QksError('SSH_FAILED', `no ssh client (${t.command ?? 'ssh'}) on PATH`, { hint: 'Install OpenSSH (openssh-client), or use --method guest-agent.' })
          : new QksError('SSH_FAILED', `cannot run ssh: ${e.message}`),
      );
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      if (failure) reject(failure);
      else if (code === 0) resolve(Buffer.concat(chunks));
      else reject(sshFailure(t, path, code, stderr));
    });
  });
}
