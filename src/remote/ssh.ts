/**
 * The SSH hop to a remote hypervisor (`qemu+ssh://[user@]host[:port]/system?keyfile=K&no_verify=1`),
 * through the system OpenSSH client: the user's ssh config, agent and known_hosts are honoured;
 * BatchMode so it never prompts.
 *
 * One connection per hypervisor: a ControlMaster (`ssh -M -f -N`) with its ControlPath in a private
 * temp dir; every remote command and every socket forward then goes through it (a few ms each instead
 * of a new TCP + key exchange + auth). ControlPersist bounds an orphaned master (the master exits by
 * itself after that long with no channel open); normally close() or the process exit hook ends it.
 *
 * Nothing is ever put on the remote command line unquoted: `shellQuote` every word (VM names and paths
 * included); names are validated before that.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { abortError, QksError } from '../errors.js';
import type { LibvirtUri } from '../libvirt/uri.js';
import { shellQuote } from '../shell.js';

/** Every default bound of the SSH hop, in one place. */
export const DEFAULT_SSH_TIMEOUTS = {
  /** ssh's ConnectTimeout (TCP connect + banner), seconds. */
  connectSec: 10,
  /** Bound on establishing the master (connect + key exchange + auth), ms. */
  masterMs: 20_000,
  /** Bound on one remote command or mux request through the master, ms. */
  commandMs: 15_000,
  /**
   * The master exits by itself after this long with no channel open: the safety net when this process
   * is killed without running its exit hook (SIGKILL, SIGHUP). An idle connection is re-made on next use.
   */
  persistSec: 60,
  /** How long close() waits for the master process to be gone, ms. */
  exitMs: 2_000,
} as const;

/** Where to connect, from the URI (and nothing else: the rest comes from the user's ssh config). */
export interface SshDestination {
  host: string;
  user?: string;
  port?: number;
  /** libvirt's `keyfile=`: `-i FILE`. */
  keyfile?: string;
  /** libvirt's `no_verify=1`: `StrictHostKeyChecking=no`, exactly as libvirt does it. */
  noVerify: boolean;
}

export interface SshOptions {
  /** An ssh_config file used instead of ~/.ssh/config (`-F`). Default: env QKS_SSH_CONFIG, else ssh's own. */
  configFile?: string;
  /** Bounds; see DEFAULT_SSH_TIMEOUTS. */
  connectTimeoutSec?: number;
  commandTimeoutMs?: number;
  persistSec?: number;
  /** The ssh binary. Default `ssh` from PATH. */
  command?: string;
}

// Host names, IPv4 and IPv6 literals; never starting with '-' (ssh would take it for an option).
const HOST_RE = /^[A-Za-z0-9_][A-Za-z0-9._:%-]*$/;
const USER_RE = /^[A-Za-z0-9_][A-Za-z0-9._@\\$-]*$/;

/** The SSH destination of a qemu+ssh URI; rejects what ssh could mistake for an option. */
export function sshDestination(uri: LibvirtUri): SshDestination {
  const bad = (why: string) => new QksError('CONFIG_INVALID', `LIBVIRT_URI ${JSON.stringify(uri.raw)}: ${why}`, { hint: 'Use qemu+ssh://[user@]host[:port]/system[?keyfile=PATH].' });
  if (uri.transport !== 'ssh' || !uri.host) throw bad('not a qemu+ssh URI with a host');
  if (!HOST_RE.test(uri.host)) throw bad(`host ${JSON.stringify(uri.host)} is not a host name or address`);
  if (uri.user !== undefined && !USER_RE.test(uri.user)) throw bad(`user ${JSON.stringify(uri.user)} is not a user name`);
  const unsupported = Object.keys(uri.params).filter((k) => !['keyfile', 'no_verify', 'no_tty', 'socket', 'mode'].includes(k));
  if (unsupported.length) throw bad(`parameter ${unsupported.join(', ')} is not supported over ssh (supported: keyfile, no_verify)`);
  const nv = uri.params.no_verify;
  return {
    host: uri.host,
    ...(uri.user ? { user: uri.user } : {}),
    ...(uri.port ? { port: uri.port } : {}),
    ...(uri.params.keyfile ? { keyfile: uri.params.keyfile } : {}),
    noVerify: nv !== undefined && nv !== '0' && nv !== '',
  };
}

/** `user@host:port`, for messages and TransportInfo.via. */
export function describeDestination(d: SshDestination): string {
  const host = d.host.includes(':') ? `[${d.host}]` : d.host;
  return `${d.user ? `${d.user}@` : ''}${host}${d.port ? `:${d.port}` : ''}`;
}


/** A remote command line: `sh -c SCRIPT qks ARG...`, every word quoted (ssh hands it to the login shell). */
export function remoteCommand(script: string, args: readonly string[] = []): string {
  return ['sh', '-c', script, 'qks', ...args].map(shellQuote).join(' ');
}

/**
 * libvirt domain names are free text; we refuse only what can never be one and what would make a
 * path ambiguous (`/`, control characters, `.`/`..`; `:` breaks ssh's -L syntax). The rest is quoted.
 */
export function validateVmName(name: string): string {
  // eslint-disable-next-line no-control-regex
  if (!name || name.length > 200 || /[/:\x00-\x1f\x7f]/.test(name) || name === '.' || name === '..' || name.startsWith('-')) {
    throw new QksError('USAGE', `invalid VM name ${JSON.stringify(name)}`, {
      hint: 'A libvirt domain name: no "/", ":" or control characters, not starting with "-", at most 200 characters.',
    });
  }
  return name;
}

/** The ssh options every invocation gets: ours first, since ssh keeps the first value of each option. */
export function sshBaseArgs(dest: SshDestination, opts: SshOptions = {}, env: NodeJS.ProcessEnv = process.env): string[] {
  const config = opts.configFile ?? env.QKS_SSH_CONFIG;
  return [
    ...(config ? ['-F', config] : []),
    '-o', 'BatchMode=yes',
    '-o', `ConnectTimeout=${opts.connectTimeoutSec ?? DEFAULT_SSH_TIMEOUTS.connectSec}`,
    '-o', 'ServerAliveInterval=5',
    '-o', 'ServerAliveCountMax=3',
    '-o', 'ForwardAgent=no',
    '-o', 'ForwardX11=no',
    '-o', 'RequestTTY=no',
    ...(dest.noVerify ? ['-o', 'StrictHostKeyChecking=no'] : []),
    ...(dest.port ? ['-p', String(dest.port)] : []),
    ...(dest.user ? ['-l', dest.user] : []),
    ...(dest.keyfile ? ['-i', dest.keyfile] : []),
  ];
}

/** Maps a failed ssh run (exit 255, its stderr) to our error codes, with what to do. */
export function classifySshFailure(stderr: string, dest: SshDestination, what = 'connect'): QksError {
  const where = describeDestination(dest);
  const lines = stderr.split('\n').map((l) => l.trim()).filter((l) => l && !/^Warning: Permanently added/.test(l));
  const said = lines.slice(-3).join(' / ') || 'no message';
  const details = { host: dest.host, ...(dest.port ? { port: dest.port } : {}), ...(dest.user ? { user: dest.user } : {}), ssh: said };
  const port = dest.port ? `-p ${dest.port} ` : '';
  if (/Host key verification failed|REMOTE HOST IDENTIFICATION HAS CHANGED|host key is known|Host key for .* has changed/i.test(stderr)) {
    return new QksError('SSH_HOST_KEY', `ssh ${where}: the host key is unknown or has changed (${said})`, {
      hint: `Check the key's fingerprint and add it to known_hosts (ssh-keyscan ${port}${dest.host} >> ~/.ssh/known_hosts, or log in once with ssh); no_verify=1 in the URI skips the check as libvirt does.`,
      details,
    });
  }
  if (/Permission denied \(|Too many authentication failures|no mutual signature|Authentication failed/i.test(stderr)) {
    return new QksError('SSH_AUTH', `ssh ${where}: the server refused our key (${said})`, {
      hint: `Give a key it accepts: keyfile=PATH in the URI, an ssh-agent, or IdentityFile in ~/.ssh/config (install it with ssh-copy-id ${port}${where.replace(/:\d+$/, '')}).`,
      details,
    });
  }
  if (/timed out|Connection timeout/i.test(stderr)) {
    return new QksError('SSH_TIMEOUT', `ssh ${where}: timed out (${said})`, {
      hint: 'Check that the host is up and that nothing drops SSH on the way (address, port, firewall).',
      details,
    });
  }
  const hint = /Could not resolve|Name or service not known|nodename nor servname/i.test(stderr)
    ? 'Check the host name in LIBVIRT_URI.'
    : /Connection refused/i.test(stderr)
      ? 'Is sshd running on that host and port?'
      : /open failed|administratively prohibited|forwarding/i.test(stderr)
        ? 'sshd must allow unix-socket forwarding: AllowStreamLocalForwarding yes (the default) and no DisableForwarding.'
        : 'Run the same with ssh -v to see why.';
  return new QksError('SSH_FAILED', `ssh ${where}: cannot ${what} (${said})`, { hint, details });
}

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs one ssh invocation with a bound and an AbortSignal; never leaves the process running. */
export function runSsh(command: string, args: string[], opts: { timeoutMs: number; signal?: AbortSignal; dest: SshDestination; what: string }): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    if (opts.signal?.aborted) return reject(abortError(opts.signal));
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let failure: QksError | undefined;
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const stop = (err: QksError) => {
      failure ??= err;
      child.kill('SIGTERM');
    };
    const timer = setTimeout(
      () => stop(new QksError('SSH_TIMEOUT', `ssh ${describeDestination(opts.dest)}: no answer to ${opts.what} within ${opts.timeoutMs} ms`, { hint: 'Check the host and the network; the bound is DEFAULT_SSH_TIMEOUTS.' })),
      opts.timeoutMs,
    );
    const onAbort = () => stop(abortError(opts.signal!));
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    child.on('error', (e: NodeJS.ErrnoException) => {
      failure ??= new QksError('SSH_FAILED', `cannot run ${command}: ${e.message}`, { hint: 'Install the OpenSSH client (openssh-clients on RHEL, openssh-client on Debian).', cause: e });
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      if (failure) reject(failure);
      else resolve({ code, stdout, stderr });
    });
  });
}

// Masters still running when the process exits are ended here (synchronously: the exit hook cannot wait).
const live = new Set<SshHost>();
let exitHookInstalled = false;
function trackForExit(h: SshHost): void {
  live.add(h);
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.on('exit', () => {
      for (const x of live) x.killNow();
    });
  }
}

/**
 * One hypervisor reached over SSH: a ControlMaster started on first use, then commands and forwards
 * through it. All files (control socket, forwarded sockets) live in one private 0700 temp dir that
 * close() removes.
 */
export class SshHost {
  readonly dest: SshDestination;
  readonly via: string;
  private privateDir: string | undefined;
  private readonly opts: SshOptions;
  private readonly env: NodeJS.ProcessEnv;
  private readonly base: string[];
  private master: Promise<void> | undefined;
  private masterPid: number | undefined;
  private closed = false;
  private seq = 0;

  constructor(dest: SshDestination, opts: SshOptions = {}, env: NodeJS.ProcessEnv = process.env) {
    this.dest = dest;
    this.via = describeDestination(dest);
    this.opts = opts;
    this.env = env;
    this.base = sshBaseArgs(dest, opts, env);
    trackForExit(this);
  }

  /** The private 0700 dir (control socket, forwarded sockets): made by connect(), removed when that fails and by close(). */
  get dir(): string {
    return this.privateDir ?? '';
  }

  get isClosed(): boolean {
    return this.closed;
  }

  get controlPath(): string {
    return join(this.dir, 'm');
  }

  private get ssh(): string {
    return this.opts.command ?? 'ssh';
  }

  private muxArgs(): string[] {
    // '%' is a token character in ControlPath
    return [...this.base, '-o', 'ControlMaster=no', '-o', `ControlPath=${this.controlPath.replace(/%/g, '%%')}`];
  }

  /** A fresh path for a local socket in the private dir. */
  localSocketPath(prefix = 'f'): string {
    return join(this.dir, `${prefix}${++this.seq}.sock`);
  }

  /** Connects (once; concurrent callers share the attempt). Throws SSH_HOST_KEY, SSH_AUTH, SSH_TIMEOUT, SSH_FAILED. */
  connect(signal?: AbortSignal): Promise<void> {
    if (this.closed) return Promise.reject(new QksError('INTERNAL', `ssh connection to ${this.via} already closed`));
    // short path: unix socket paths are limited to 108 bytes
    if (!this.master && (!this.privateDir || !existsSync(this.privateDir))) this.privateDir = mkdtempSync(join(tmpdir(), 'qks-ssh-'));
    this.master ??= this.startMaster(signal).catch((e: unknown) => {
      // nothing runs: leave no dir behind
      this.master = undefined;
      if (this.privateDir) rmSync(this.privateDir, { recursive: true, force: true });
      throw e;
    });
    return this.master;
  }

  private async startMaster(signal?: AbortSignal): Promise<void> {
    if (this.dest.keyfile && !existsSync(this.dest.keyfile)) {
      throw new QksError('INPUT_NOT_FOUND', `keyfile ${this.dest.keyfile} (from LIBVIRT_URI) does not exist`, { hint: 'Fix keyfile= in the URI.' });
    }
    const args = [
      ...this.base,
      '-o', 'ControlMaster=yes',
      '-o', `ControlPath=${this.controlPath.replace(/%/g, '%%')}`,
      '-o', `ControlPersist=${this.opts.persistSec ?? DEFAULT_SSH_TIMEOUTS.persistSec}`,
      // forwards are ours alone: none from the user's config (LocalForward ...), unlink stale sockets
      '-o', 'ClearAllForwardings=yes',
      '-o', 'StreamLocalBindUnlink=yes',
      '-o', 'ExitOnForwardFailure=yes',
      '-f', '-N', '--', this.dest.host,
    ];
    // -f: ssh returns once authenticated and leaves the master in the background (stdio on /dev/null)
    const r = await runSsh(this.ssh, args, { timeoutMs: DEFAULT_SSH_TIMEOUTS.masterMs, ...(signal ? { signal } : {}), dest: this.dest, what: 'connect' });
    if (r.code !== 0) throw classifySshFailure(r.stderr, this.dest);
    const check = await runSsh(this.ssh, [...this.muxArgs(), '-O', 'check', '--', this.dest.host], { timeoutMs: DEFAULT_SSH_TIMEOUTS.commandMs, dest: this.dest, what: 'check' });
    const pid = /pid=(\d+)/.exec(check.stderr);
    if (pid) this.masterPid = Number(pid[1]);
  }

  /** Runs `sh -c SCRIPT qks ARGS...` on the host (through the master), every word quoted. */
  async exec(script: string, args: readonly string[] = [], signal?: AbortSignal): Promise<RunResult> {
    await this.connect(signal);
    const run = () =>
      runSsh(this.ssh, [...this.muxArgs(), '-n', '--', this.dest.host, remoteCommand(script, args)], {
        timeoutMs: this.opts.commandTimeoutMs ?? DEFAULT_SSH_TIMEOUTS.commandMs,
        ...(signal ? { signal } : {}),
        dest: this.dest,
        what: 'a remote command',
      });
    const r = await this.retryOnStaleMaster(run, signal);
    // our scripts never exit 255: that is ssh's own failure
    if (r.code === 255) throw classifySshFailure(r.stderr, this.dest, 'run a remote command');
    return r;
  }

  /** A mux request (`-O forward -L ...`, `-O cancel ...`). */
  async control(op: 'forward' | 'cancel', forwardSpec: string[], signal?: AbortSignal): Promise<void> {
    await this.connect(signal);
    const run = () =>
      runSsh(this.ssh, [...this.muxArgs(), '-O', op, ...forwardSpec, '--', this.dest.host], {
        timeoutMs: this.opts.commandTimeoutMs ?? DEFAULT_SSH_TIMEOUTS.commandMs,
        ...(signal ? { signal } : {}),
        dest: this.dest,
        what: `${op} a socket`,
      });
    const r = await this.retryOnStaleMaster(run, signal);
    if (r.code !== 0) throw classifySshFailure(r.stderr, this.dest, `${op} a socket forward`);
  }

  // The master ends itself after ControlPersist idle seconds; reconnect once when that happened.
  private async retryOnStaleMaster(run: () => Promise<RunResult>, signal?: AbortSignal): Promise<RunResult> {
    const r = await run();
    if (r.code === 255 && /Control socket connect|No ControlPath specified|master is not running/i.test(r.stderr) && !existsSync(this.controlPath)) {
      this.master = undefined;
      await this.connect(signal);
      return run();
    }
    return r;
  }

  /** Ends the master and removes the private dir (control socket, forwarded sockets). Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    live.delete(this);
    if (this.master) {
      await this.master.catch(() => undefined);
      if (this.privateDir && existsSync(this.controlPath)) {
        await runSsh(this.ssh, [...this.muxArgs(), '-O', 'exit', '--', this.dest.host], { timeoutMs: DEFAULT_SSH_TIMEOUTS.exitMs, dest: this.dest, what: 'exit' }).catch(() => undefined);
      }
      await waitGone(this.masterPid, DEFAULT_SSH_TIMEOUTS.exitMs);
    }
    if (this.privateDir) rmSync(this.privateDir, { recursive: true, force: true });
  }

  /** Synchronous last resort (process exit): signal the master, remove the dir. */
  killNow(): void {
    if (this.masterPid) {
      try {
        process.kill(this.masterPid, 'SIGTERM');
      } catch {
        // already gone
      }
    }
    if (this.privateDir) rmSync(this.privateDir, { recursive: true, force: true });
  }
}

/**
 * Whether `pid` still runs. A daemonized process that exited stays a zombie where PID 1 does not reap
 * (containers): that counts as gone.
 */
export function processAlive(pid: number): boolean {
  try {
    if (/^\d+ \(.*\) [ZX]/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'))) return false;
  } catch {
    // no /proc (or no such pid): signal 0 decides
  }
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function waitGone(pid: number | undefined, boundMs: number): Promise<void> {
  if (!pid) return;
  const until = Date.now() + boundMs;
  while (processAlive(pid) && Date.now() < until) await new Promise((r) => setTimeout(r, 5));
  if (processAlive(pid)) {
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      // gone meanwhile
    }
  }
}

// One shared connection per destination (and ssh options) for the whole process.
const pool = new Map<string, SshHost>();

/** The shared SshHost for a qemu+ssh URI: one connection per hypervisor, whatever the number of VMs. */
export function sshHostFor(uri: LibvirtUri, opts: SshOptions = {}, env: NodeJS.ProcessEnv = process.env): SshHost {
  const dest = sshDestination(uri);
  const key = JSON.stringify([dest, opts, env.QKS_SSH_CONFIG ?? null]);
  let h = pool.get(key);
  if (!h || h.isClosed) {
    h = new SshHost(dest, opts, env);
    pool.set(key, h);
  }
  return h;
}

/** Closes every shared SSH connection (call at the end of a command; the exit hook is the safety net). */
export async function closeSshConnections(): Promise<void> {
  const all = [...pool.values()];
  pool.clear();
  await Promise.all(all.map((h) => h.close()));
}
