/**
 * The fake agent's guest: a memfs filesystem, open file handles, and the few programs guest-exec can
 * run against it (cat, true, false, echo, sh -c with those). Replies are shaped exactly like qemu-ga
 * 7.2's, messages included, so clients cannot tell the difference for the commands we use.
 */
import { Volume } from 'memfs';
import { dirname } from 'node:path';

export type AgentReply = { return: unknown } | { error: { class: string; desc: string } };

export const FAKE_AGENT_VERSION = '7.2.22';

/** The commands the fake answers, as guest-info lists them. */
export const FAKE_COMMANDS = [
  'guest-sync-delimited',
  'guest-sync',
  'guest-ping',
  'guest-info',
  'guest-exec',
  'guest-exec-status',
  'guest-file-open',
  'guest-file-read',
  'guest-file-write',
  'guest-file-close',
] as const;

const MAX_READ_COUNT = 48 * 1024 * 1024;

export function ok(value: unknown): AgentReply {
  return { return: value };
}
export function fail(desc: string, cls = 'GenericError'): AgentReply {
  return { error: { class: cls, desc } };
}

interface ProcResult {
  exitcode: number;
  out: Buffer;
  err: Buffer;
}

interface Proc {
  result: ProcResult;
  capture: boolean;
  /** Status polls left that answer `exited: false` (the real agent says so a few times for a plain cat). */
  pollsLeft: number;
}

export class FakeGuest {
  readonly vol = new Volume();
  private handles = new Map<number, { path: string; pos: number; mode: string }>();
  private nextHandle = 1000;
  private procs = new Map<number, Proc>();
  private nextPid = 4000;

  constructor(
    files: Record<string, string | Uint8Array> = {},
    private readonly opts: { disabled: () => readonly string[]; execPolls: () => number; version?: string } = { disabled: () => [], execPolls: () => 2 },
  ) {
    for (const [p, d] of Object.entries(files)) this.setFile(p, d);
  }

  setFile(path: string, data: string | Uint8Array): void {
    this.vol.mkdirSync(dirname(path), { recursive: true });
    this.vol.writeFileSync(path, typeof data === 'string' ? data : Buffer.from(data));
  }

  /** Answers one command (not the sync commands: the server handles those, they touch the wire). */
  handle(command: string, args: Record<string, unknown>): AgentReply {
    if (this.opts.disabled().includes(command)) return fail(`The command ${command} has been disabled for this instance`, 'CommandNotFound');
    switch (command) {
      case 'guest-ping':
        return ok({});
      case 'guest-info':
        return ok({
          version: this.opts.version ?? FAKE_AGENT_VERSION,
          supported_commands: FAKE_COMMANDS.map((name) => ({ enabled: !this.opts.disabled().includes(name), name, 'success-response': true })),
        });
      case 'guest-exec':
        return this.exec(args);
      case 'guest-exec-status':
        return this.execStatus(args);
      case 'guest-file-open':
        return this.fileOpen(args);
      case 'guest-file-read':
        return this.fileRead(args);
      case 'guest-file-write':
        return this.fileWrite(args);
      case 'guest-file-close': {
        const h = Number(args.handle);
        if (!this.handles.delete(h)) return fail(`handle '${h}' has not been found`);
        return ok({});
      }
      default:
        return fail(`The command ${command} has not been found`, 'CommandNotFound');
    }
  }

  /** Open handles (tests check that clients close theirs). */
  get openHandles(): number {
    return this.handles.size;
  }

  private fileOpen(args: Record<string, unknown>): AgentReply {
    const path = String(args.path);
    const mode = typeof args.mode === 'string' ? args.mode : 'r';
    if (mode.startsWith('r')) {
      if (!this.vol.existsSync(path) || this.vol.statSync(path).isDirectory()) {
        const why = this.vol.existsSync(path) ? 'Is a directory' : 'No such file or directory';
        return fail(`failed to open file '${path}' (mode: '${mode}'): ${why}`);
      }
    } else {
      this.vol.mkdirSync(dirname(path), { recursive: true });
      if (mode.startsWith('w') || !this.vol.existsSync(path)) this.vol.writeFileSync(path, '');
    }
    const h = this.nextHandle++;
    this.handles.set(h, { path, pos: 0, mode });
    return ok(h);
  }

  private fileRead(args: Record<string, unknown>): AgentReply {
    const h = this.handles.get(Number(args.handle));
    if (!h) return fail(`handle '${String(args.handle)}' has not been found`);
    const count = args.count === undefined ? 4096 : Number(args.count);
    if (!Number.isInteger(count) || count < 0 || count > MAX_READ_COUNT) return fail(`value '${count}' is invalid for argument count`, 'GenericError');
    const data = this.vol.readFileSync(h.path) as Buffer;
    const chunk = data.subarray(h.pos, h.pos + count);
    h.pos += chunk.length;
    // like fread + feof: eof only once a read asked for more than was left
    return ok({ count: chunk.length, 'buf-b64': chunk.toString('base64'), eof: chunk.length < count });
  }

  private fileWrite(args: Record<string, unknown>): AgentReply {
    const h = this.handles.get(Number(args.handle));
    if (!h) return fail(`handle '${String(args.handle)}' has not been found`);
    const data = Buffer.from(String(args['buf-b64'] ?? ''), 'base64');
    const old = this.vol.readFileSync(h.path) as Buffer;
    this.vol.writeFileSync(h.path, Buffer.concat([old.subarray(0, h.pos), data, old.subarray(h.pos + data.length)]));
    h.pos += data.length;
    return ok({ count: data.length, eof: false });
  }

  private exec(args: Record<string, unknown>): AgentReply {
    const path = String(args.path ?? '');
    const argv = Array.isArray(args.arg) ? args.arg.map(String) : [];
    const input = typeof args['input-data'] === 'string' ? Buffer.from(args['input-data'], 'base64') : Buffer.alloc(0);
    const result = this.run(path, argv, input);
    if (!result) return fail(`Guest agent command failed, error was 'Failed to execute child process “${path}” (No such file or directory)'`);
    const pid = this.nextPid++;
    this.procs.set(pid, { result, capture: args['capture-output'] === true, pollsLeft: this.opts.execPolls() });
    return ok({ pid });
  }

  private execStatus(args: Record<string, unknown>): AgentReply {
    const pid = Number(args.pid);
    const p = this.procs.get(pid);
    if (!p) return fail(`Invalid parameter 'pid'`);
    if (p.pollsLeft > 0) {
      p.pollsLeft--;
      return ok({ exited: false });
    }
    this.procs.delete(pid); // like qemu-ga: a finished status is returned once
    const r: Record<string, unknown> = { exitcode: p.result.exitcode };
    if (p.capture) {
      // like qemu-ga: data and its truncation flag only for a non-empty stream
      if (p.result.out.length) Object.assign(r, { 'out-data': p.result.out.toString('base64'), 'out-truncated': false });
      if (p.result.err.length) Object.assign(r, { 'err-data': p.result.err.toString('base64'), 'err-truncated': false });
    }
    r.exited = true;
    return ok(r);
  }

  /** The tiny userland: undefined when the program does not exist. */
  private run(path: string, argv: string[], input: Buffer): ProcResult | undefined {
    const prog = path.includes('/') ? path.slice(path.lastIndexOf('/') + 1) : path;
    if (path.includes('/') && !/^\/(usr\/)?s?bin\//.test(path)) return undefined;
    const res = (exitcode: number, out: string | Buffer = '', err = ''): ProcResult => ({ exitcode, out: Buffer.from(out), err: Buffer.from(err) });
    switch (prog) {
      case 'true':
        return res(0);
      case 'false':
        return res(1);
      case 'echo':
        return res(0, argv.join(' ') + '\n');
      case 'cat': {
        if (!argv.length) return res(0, input);
        const outs: Buffer[] = [];
        let err = '';
        let code = 0;
        for (const f of argv) {
          if (this.vol.existsSync(f) && !this.vol.statSync(f).isDirectory()) outs.push(this.vol.readFileSync(f) as Buffer);
          else {
            err += `cat: ${f}: ${this.vol.existsSync(f) ? 'Is a directory' : 'No such file or directory'}\n`;
            code = 1;
          }
        }
        return res(code, Buffer.concat(outs), err);
      }
      case 'sh': {
        if (argv[0] !== '-c' || argv[1] === undefined) return res(2, '', 'sh: only -c SCRIPT is supported by the fake agent\n');
        const script = argv[1].trim();
        const exit = /^exit\s+(\d+)$/.exec(script);
        if (exit) return res(Number(exit[1]));
        const words = script.split(/\s+/);
        return this.run(words[0]!, words.slice(1), input) ?? res(127, '', `sh: ${words[0]}: not found\n`);
      }
      default:
        return undefined;
    }
  }
}
