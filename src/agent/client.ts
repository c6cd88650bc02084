/**
 * The guest-agent operations the product needs, typed and validated, over any AgentTransport
 * (direct unix socket, libvirtd, an SSH-forwarded socket). Every operation has a bound.
 */
import { sleep, startDeadline, type Deadline } from '../deadline.js';
import type { CancelSignal } from '../cancel.js';
import { isQksError } from '../errors.js';
import { guestCatFailed, guestFileNotFound, guestFileTooLarge, operationTimeout, protocolError } from './errors.js';
import { decodeBase64Strict, ExecStart, ExecStatus, FileHandle, FileRead, GuestInfo, parseReturn, type ExecStatusReply } from './messages.js';
import { DEFAULT_TIMEOUTS, EXEC_POLL } from './timeouts.js';
import type { AgentTransport, TransportInfo } from './transport.js';

export interface AgentCommandInfo {
  name: string;
  enabled: boolean;
  successResponse: boolean;
}

export interface AgentInfo {
  version: string;
  commands: AgentCommandInfo[];
}

export interface CallOptions {
  /** Bound on the whole operation, in ms. Defaults: DEFAULT_TIMEOUTS. */
  timeoutMs?: number;
  signal?: CancelSignal;
}

export interface ExecOptions extends CallOptions {
  /** Bytes for the process's stdin. */
  input?: string | Uint8Array;
  /** Environment, as `NAME=value` entries (the agent's format) or an object. */
  env?: string[] | Record<string, string>;
  /** Capture stdout/stderr (default true). */
  captureOutput?: boolean;
}

export interface ExecResult {
  exitCode: number | undefined;
  /** Set when the process was killed by a signal. */
  signal?: number;
  stdout: Buffer;
  stderr: Buffer;
  stdoutTruncated: boolean;
  stderrTruncated: boolean;
}

export type ReadMethod = 'file' | 'exec' | 'auto';

export interface ReadFileOptions extends CallOptions {
  /** Refuse files larger than this (default 16 MiB). */
  maxBytes?: number;
  /** guest-file-read (`file`), guest-exec of cat (`exec`), or file with exec as fallback when disabled (`auto`, default). */
  method?: ReadMethod;
  /** Bytes asked per guest-file-read (default 1 MiB; qemu-ga allows up to 48 MiB). */
  chunkBytes?: number;
}

export interface AgentClientOptions {
  /** Overrides for the default bounds. */
  timeouts?: Partial<Pick<typeof DEFAULT_TIMEOUTS, 'commandMs' | 'execMs' | 'readFileMs'>>;
}

export const DEFAULT_MAX_FILE_BYTES = 16 * 1024 * 1024;
const DEFAULT_CHUNK_BYTES = 1024 * 1024;

/** A budget shared by the steps of one operation (src/deadline.ts). */
function operationDeadline(totalMs: number, what: string): Deadline {
  return startDeadline(totalMs, {
    onTimeout: () => operationTimeout(what, totalMs),
  });
}

/**
 * A finished guest-exec-status as a result. qemu-ga sets `exitcode` for a normal exit and `signal`
 * for a killed process; a status with neither (or a signal beside exit code 0) is not a success.
 */
export function execResult(s: ExecStatusReply): ExecResult {
  if (s.exitcode === undefined && s.signal === undefined) {
    throw protocolError('unexpected reply to guest-exec-status: the process exited with neither an exit code nor a signal', { command: 'guest-exec-status', reply: JSON.stringify(s).slice(0, 200) });
  }
  return {
    exitCode: s.exitcode,
    ...(s.signal !== undefined ? { signal: s.signal } : {}),
    stdout: s['out-data'] === undefined ? Buffer.alloc(0) : decodeBase64Strict(s['out-data'], 'guest-exec-status', 'out-data'),
    stderr: s['err-data'] === undefined ? Buffer.alloc(0) : decodeBase64Strict(s['err-data'], 'guest-exec-status', 'err-data'),
    stdoutTruncated: s['out-truncated'] ?? false,
    stderrTruncated: s['err-truncated'] ?? false,
  };
}

/** Whether a finished program succeeded: exit code 0 and not killed by a signal. */
export function execSucceeded(r: Pick<ExecResult, 'exitCode' | 'signal'>): boolean {
  return r.exitCode === 0 && r.signal === undefined;
}

/** How a program ended, for messages: `exit 3`, `signal 9`. */
export function describeExit(r: Pick<ExecResult, 'exitCode' | 'signal'>): string {
  return r.signal !== undefined ? `signal ${r.signal}${r.exitCode !== undefined && r.exitCode !== 0 ? `, exit ${r.exitCode}` : ''}` : `exit ${r.exitCode}`;
}

const NO_SUCH_FILE = /No such file or directory/i;

export class AgentClient {
  private infoCache: Promise<AgentInfo> | undefined;
  private readonly timeouts: typeof DEFAULT_TIMEOUTS;

  constructor(
    readonly transport: AgentTransport,
    options: AgentClientOptions = {},
  ) {
    this.timeouts = { ...DEFAULT_TIMEOUTS, ...options.timeouts };
  }

  get transportInfo(): TransportInfo {
    return this.transport.info;
  }

  /** Any command; resolves with its `return` value. */
  execute(command: string, args?: Record<string, unknown>, opts: CallOptions = {}): Promise<unknown> {
    return this.transport.execute(command, args, { timeoutMs: opts.timeoutMs ?? this.timeouts.commandMs, ...(opts.signal ? { signal: opts.signal } : {}) });
  }

  async ping(opts: CallOptions = {}): Promise<void> {
    await this.execute('guest-ping', undefined, opts);
  }

  async info(opts: CallOptions = {}): Promise<AgentInfo> {
    const r = parseReturn(GuestInfo, 'guest-info', await this.execute('guest-info', undefined, opts));
    const info: AgentInfo = {
      version: r.version,
      commands: r.supported_commands.map((c) => ({ name: c.name, enabled: c.enabled, successResponse: c['success-response'] ?? true })),
    };
    this.infoCache = Promise.resolve(info);
    return info;
  }

  /** Whether the agent has `command` and it is enabled (from guest-info, asked once). */
  async isEnabled(command: string, opts: CallOptions = {}): Promise<boolean> {
    if (!this.infoCache) {
      this.infoCache = this.info(opts);
      this.infoCache.catch(() => (this.infoCache = undefined));
    }
    const info = await this.infoCache;
    return info.commands.some((c) => c.name === command && c.enabled);
  }

  /** Runs a program in the guest and waits for it (guest-exec, then guest-exec-status with a growing poll interval). */
  async exec(path: string, args: string[] = [], opts: ExecOptions = {}): Promise<ExecResult> {
    const deadline = operationDeadline(opts.timeoutMs ?? this.timeouts.execMs, `guest-exec of ${path}`);
    try {
      return await this.execWithin(deadline, path, args, opts);
    } finally {
      deadline.dispose();
    }
  }

  private async execWithin(deadline: Deadline, path: string, args: string[], opts: ExecOptions): Promise<ExecResult> {
    const env = opts.env === undefined ? undefined : Array.isArray(opts.env) ? opts.env : Object.entries(opts.env).map(([k, v]) => `${k}=${v}`);
    const start = parseReturn(
      ExecStart,
      'guest-exec',
      await this.call('guest-exec', {
        path,
        arg: args,
        ...(env ? { env } : {}),
        ...(opts.input !== undefined ? { 'input-data': Buffer.from(opts.input).toString('base64') } : {}),
        'capture-output': opts.captureOutput ?? true,
      }, deadline, opts.signal),
    );
    let interval: number = EXEC_POLL.firstMs;
    for (;;) {
      const s = parseReturn(ExecStatus, 'guest-exec-status', await this.call('guest-exec-status', { pid: start.pid }, deadline, opts.signal));
      if (s.exited) return execResult(s);
      await sleep(Math.min(interval, deadline.left()), opts.signal);
      interval = Math.min(interval * 2, EXEC_POLL.maxMs);
    }
  }

  /**
   * Reads a whole guest file. `file`: guest-file-open/read/close, the handle closed whatever happens;
   * `exec`: `cat` in the guest; `auto`: file, falling back to exec when the guest disables guest-file-*.
   * A missing file is GUEST_FILE_NOT_FOUND (retryable); one past maxBytes GUEST_FILE_TOO_LARGE.
   */
  async readFile(path: string, opts: ReadFileOptions = {}): Promise<Buffer> {
    const method = opts.method ?? 'auto';
    if (method === 'exec') return this.readFileByExec(path, opts);
    try {
      return await this.readFileByHandle(path, opts);
    } catch (e) {
      if (method === 'auto' && isQksError(e, 'COMMAND_DISABLED')) return this.readFileByExec(path, opts);
      throw e;
    }
  }

  private async readFileByHandle(path: string, opts: ReadFileOptions): Promise<Buffer> {
    const deadline = operationDeadline(opts.timeoutMs ?? this.timeouts.readFileMs, `reading ${path}`);
    try {
      return await this.readByHandleWithin(deadline, path, opts);
    } finally {
      deadline.dispose();
    }
  }

  private async readByHandleWithin(deadline: Deadline, path: string, opts: ReadFileOptions): Promise<Buffer> {
    const maxBytes = opts.maxBytes ?? DEFAULT_MAX_FILE_BYTES;
    const count = Math.min(opts.chunkBytes ?? DEFAULT_CHUNK_BYTES, maxBytes + 1);
    let handle: number;
    try {
      handle = parseReturn(FileHandle, 'guest-file-open', await this.call('guest-file-open', { path, mode: 'r' }, deadline, opts.signal));
    } catch (e) {
      if (isQksError(e, 'COMMAND_FAILED') && NO_SUCH_FILE.test(String(e.details.desc))) throw guestFileNotFound(path, { details: { method: 'file', desc: e.details.desc } });
      throw e;
    }
    const chunks: Buffer[] = [];
    let total = 0;
    try {
      for (;;) {
        const r = parseReturn(FileRead, 'guest-file-read', await this.call('guest-file-read', { handle, count }, deadline, opts.signal));
        const data = decodeBase64Strict(r['buf-b64'], 'guest-file-read', 'buf-b64');
        // the reply says how many bytes it carries: a cut or padded buf-b64 must not pass as the file
        if (data.length !== r.count) throw protocolError(`unexpected reply to guest-file-read: count is ${r.count} but buf-b64 holds ${data.length} bytes`, { command: 'guest-file-read', count: r.count, decoded: data.length });
        total += data.length;
        if (total > maxBytes) throw guestFileTooLarge(path, maxBytes);
        chunks.push(data);
        if (r.eof || data.length === 0) break;
      }
    } finally {
      // always give the handle back; a failure here must not hide the first one
      await this.execute('guest-file-close', { handle }, { timeoutMs: Math.min(this.timeouts.commandMs, DEFAULT_TIMEOUTS.closeHandleMs) }).catch(() => {});
    }
    return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
  }

  private async readFileByExec(path: string, opts: ReadFileOptions): Promise<Buffer> {
    const maxBytes = opts.maxBytes ?? DEFAULT_MAX_FILE_BYTES;
    const r = await this.exec('/bin/cat', [path], { timeoutMs: opts.timeoutMs ?? this.timeouts.readFileMs, ...(opts.signal ? { signal: opts.signal } : {}) });
    if (!execSucceeded(r)) {
      const stderr = r.stderr.toString('utf8').trim();
      if (NO_SUCH_FILE.test(stderr)) throw guestFileNotFound(path, { details: { method: 'exec', stderr } });
      throw guestCatFailed(path, describeExit(r), r, stderr);
    }
    if (r.stdoutTruncated || r.stdout.length > maxBytes) throw guestFileTooLarge(path, maxBytes);
    return r.stdout;
  }

  private call(command: string, args: Record<string, unknown>, deadline: Deadline, signal?: CancelSignal): Promise<unknown> {
    return this.transport.execute(command, args, { timeoutMs: Math.min(deadline.left(), this.timeouts.commandMs), ...(signal ? { signal } : {}) });
  }

  close(): Promise<void> {
    return this.transport.close();
  }
}

