/**
 * One hypervisor reached over SSH with the system OpenSSH client (the user's ssh config, agent and
 * known_hosts are honoured; BatchMode so it never prompts): a ControlMaster (`ssh -M -f -N`) started on
 * first use, then every remote command, socket forward and stdio hop goes through it (a few ms each
 * instead of a new TCP + key exchange + auth).
 *
 * ControlPersist bounds an orphaned master: it exits by itself after that long with no channel open,
 * the safety net when the owner is killed before close() (SIGKILL). The owner is an SshPool
 * (./pool.ts) that whoever opened it closes; nothing here installs a process handler.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { QksError } from '../errors.js';
import { TIMEOUTS } from '../timeouts.js';
import { describeDestination, remoteCommand, sshBaseArgs, type SshDestination } from './args.js';
import { classifySshFailure, sshClosed, sshKeyfileMissing, type SshHints } from './failure.js';
import type { SshPool } from './pool.js';
import { runSsh, type RunResult } from './run.js';
import type { CancelSignal } from '../cancel.js';

/** Every default bound of the SSH hop: the ssh row of the one timeouts table. */
export const DEFAULT_SSH_TIMEOUTS = TIMEOUTS.ssh;

export interface SshOptions {
  /** An ssh_config file used instead of ~/.ssh/config (`-F`). Default: env QKS_SSH_CONFIG, else ssh's own. */
  configFile?: string;
  /** Bounds; see DEFAULT_SSH_TIMEOUTS. */
  connectTimeoutSec?: number;
  commandTimeoutMs?: number;
  persistSec?: number;
  /** The ssh binary. Default `ssh` from PATH. */
  command?: string;
  /** Hints for failures (the flags that fix them here); defaults in ./failure.ts. */
  hints?: SshHints;
}

export class SshHost {
  readonly dest: SshDestination;
  readonly via: string;
  /** Per-connection memo (src/remote/discover.ts keeps its host scans here): gone with the connection. */
  readonly cache = new Map<string, unknown>();
  private privateDir: string | undefined;
  private readonly opts: SshOptions;
  private readonly base: string[];
  private master: Promise<void> | undefined;
  private masterPid: number | undefined;
  private closed = false;
  private seq = 0;
  private readonly children = new Set<ChildProcess>();

  constructor(dest: SshDestination, opts: SshOptions = {}, env: NodeJS.ProcessEnv = process.env) {
    this.dest = dest;
    this.via = describeDestination(dest);
    this.opts = opts;
    this.base = sshBaseArgs(dest, { connectTimeoutSec: opts.connectTimeoutSec ?? DEFAULT_SSH_TIMEOUTS.connectSec, ...(opts.configFile ? { configFile: opts.configFile } : {}) }, env);
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

  private fail(stderr: string, what?: string): QksError {
    return classifySshFailure(stderr, this.dest, what, this.opts.hints);
  }

  private muxArgs(): string[] {
    // '%' is a token character in ControlPath
    return [...this.base, '-o', 'ControlMaster=no', '-o', `ControlPath=${this.controlPath.replace(/%/g, '%%')}`];
  }

  private run(args: string[], what: string, timeoutMs: number, signal?: CancelSignal): Promise<RunResult> {
    return runSsh(this.ssh, args, { timeoutMs, ...(signal ? { signal } : {}), where: this.via, what });
  }

  /** A fresh path for a local socket in the private dir. */
  localSocketPath(prefix = 'f'): string {
    return join(this.dir, `${prefix}${++this.seq}.sock`);
  }

  /** Connects (once; concurrent callers share the attempt). Throws SSH_HOST_KEY, SSH_AUTH, SSH_TIMEOUT, SSH_FAILED. */
  connect(signal?: CancelSignal): Promise<void> {
    if (this.closed) return Promise.reject(sshClosed(this.via));
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

  private async startMaster(signal?: CancelSignal): Promise<void> {
    if (this.dest.keyfile && !existsSync(this.dest.keyfile)) {
      throw sshKeyfileMissing(this.dest.keyfile);
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
    const r = await this.run(args, 'connect', DEFAULT_SSH_TIMEOUTS.masterMs, signal);
    if (r.code !== 0) throw this.fail(r.stderr);
    const check = await this.run([...this.muxArgs(), '-O', 'check', '--', this.dest.host], 'check', DEFAULT_SSH_TIMEOUTS.commandMs);
    const pid = /pid=(\d+)/.exec(check.stderr);
    if (pid) this.masterPid = Number(pid[1]);
  }

  /** Runs `sh -c SCRIPT qks ARGS...` on the host (through the master), every word quoted. */
  async exec(script: string, args: readonly string[] = [], signal?: CancelSignal): Promise<RunResult> {
    await this.connect(signal);
    const timeoutMs = this.opts.commandTimeoutMs ?? DEFAULT_SSH_TIMEOUTS.commandMs;
    const r = await this.retryOnStaleMaster(() => this.run([...this.muxArgs(), '-n', '--', this.dest.host, remoteCommand(script, args)], 'a remote command', timeoutMs, signal), signal);
    // our scripts never exit 255: that is ssh's own failure
    if (r.code === 255) throw this.fail(r.stderr, 'run a remote command');
    return r;
  }

  /** A mux request (`-O forward -L ...`, `-O cancel ...`). */
  async control(op: 'forward' | 'cancel', forwardSpec: string[], signal?: CancelSignal): Promise<void> {
    await this.connect(signal);
    const timeoutMs = this.opts.commandTimeoutMs ?? DEFAULT_SSH_TIMEOUTS.commandMs;
    const r = await this.retryOnStaleMaster(() => this.run([...this.muxArgs(), '-O', op, ...forwardSpec, '--', this.dest.host], `${op} a socket`, timeoutMs, signal), signal);
    if (r.code !== 0) throw this.fail(r.stderr, `${op} a socket forward`);
  }

  /**
   * Starts `sh -c SCRIPT qks ARGS...` on the host with its stdio as a byte pipe (libvirt's remote
   * helper: src/remote/libvirtd.ts). The caller owns the process; close() ends any still running.
   */
  async spawnStdio(script: string, args: readonly string[] = [], signal?: CancelSignal): Promise<ChildProcess> {
    await this.connect(signal);
    if (!existsSync(this.controlPath)) {
      this.master = undefined;
      await this.connect(signal);
    }
    const child = spawn(this.ssh, [...this.muxArgs(), '-T', '--', this.dest.host, remoteCommand(script, args)], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.children.add(child);
    child.once('close', () => this.children.delete(child));
    return child;
  }

  // The master ends itself after ControlPersist idle seconds; reconnect once when that happened.
  private async retryOnStaleMaster(run: () => Promise<RunResult>, signal?: CancelSignal): Promise<RunResult> {
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
    for (const c of this.children) c.kill('SIGTERM');
    if (this.master) {
      await this.master.catch(() => undefined);
      if (this.privateDir && existsSync(this.controlPath)) {
        await this.run([...this.muxArgs(), '-O', 'exit', '--', this.dest.host], 'exit', DEFAULT_SSH_TIMEOUTS.exitMs).catch(() => undefined);
      }
      await waitGone(this.masterPid, DEFAULT_SSH_TIMEOUTS.exitMs);
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
  while (processAlive(pid) && Date.now() < until) await new Promise((r) => setTimeout(r, TIMEOUTS.sshExitPollMs));
  if (processAlive(pid)) {
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      // gone meanwhile
    }
  }
}

/** The pool's connection for a destination (and ssh options): one per host, whatever the number of VMs. */
export function pooledHost(pool: SshPool, dest: SshDestination, opts: SshOptions = {}, env: NodeJS.ProcessEnv = process.env): SshHost {
  const key = JSON.stringify([dest, { ...opts, hints: undefined }, env.QKS_SSH_CONFIG ?? null]);
  return pool.shared(key, () => new SshHost(dest, opts, env));
}
