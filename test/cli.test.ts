import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { CLI_BUNDLE, runCli } from './helpers/cli.js';
import { Writable } from 'node:stream';
import { VERSION } from '../src/version.js';
import { Output, type GlobalFlags } from '../src/cli/output.js';
import { QksError } from '../src/errors.js';

/** An Output over in-memory streams; `tty` makes stderr claim to be a terminal. */
function captured(flags: GlobalFlags, { tty = false, env = {} as NodeJS.ProcessEnv } = {}) {
  const text = { stdout: '', stderr: '' };
  const sink = (k: keyof typeof text) => Object.assign(new Writable({ write: (c, _e, cb) => ((text[k] += String(c)), cb()) }), { isTTY: tty });
  return { out: new Output(flags, { stdout: sink('stdout'), stderr: sink('stderr'), env }), text };
}
const ESC = '\x1b[';

describe('Output', () => {
  it('colours only on a TTY, never with NO_COLOR, --no-color or TERM=dumb', () => {
    expect(captured({}, { tty: true }).out.color).toBe(true);
    expect(captured({}, { tty: false }).out.color).toBe(false);
    expect(captured({}, { tty: true, env: { NO_COLOR: '1' } }).out.color).toBe(false);
    expect(captured({ color: false }, { tty: true }).out.color).toBe(false);
    expect(captured({}, { tty: true, env: { TERM: 'dumb' } }).out.color).toBe(false);
    const on = captured({}, { tty: true });
    on.out.warn('w');
    expect(on.text.stderr).toContain(`${ESC}33m`);
    const off = captured({}, { tty: false });
    off.out.warn('w');
    off.out.error(new QksError('USAGE', 'bad'));
    expect(off.text.stderr).not.toContain(ESC);
  });

  it('--quiet keeps results, warnings and errors; --verbose adds details; --quiet wins over --verbose', () => {
    const q = captured({ quiet: true, verbose: true });
    q.out.info('step');
    q.out.verbose('detail');
    q.out.warn('careful');
    q.out.result({ a: 1 }, 'done');
    expect(q.text.stderr).toBe('warning: careful\n');
    expect(q.text.stdout).toBe('done\n');
    const v = captured({ verbose: true });
    v.out.info('step');
    v.out.verbose('detail');
    expect(v.text.stderr).toBe('step\ndetail\n');
    const n = captured({});
    n.out.verbose('detail');
    expect(n.text.stderr).toBe('');
  });

  it('--json: the result is one JSON line; an error is JSON on stdout and text on stderr, with its exit code', () => {
    const j = captured({ json: true });
    j.out.result({ a: 1 }, 'human text');
    expect(j.text.stdout).toBe('{"a":1}\n');
    const e = captured({ json: true });
    const err = e.out.error(new QksError('SOCKET_NOT_FOUND', 'no socket', { hint: 'start the VM' }));
    expect(err.exitCode).toBe(3);
    expect(JSON.parse(e.text.stdout)).toEqual({ ok: false, error: { code: 'SOCKET_NOT_FOUND', message: 'no socket', hint: 'start the VM', retryable: true } });
    expect(e.text.stderr).toBe('error: no socket [SOCKET_NOT_FOUND]\n  start the VM\n');
  });

  it('progress lines only on a TTY, and cleared before the next line', () => {
    const pipe = captured({});
    pipe.out.progress('waiting');
    expect(pipe.text.stderr).toBe('');
    const tty = captured({}, { tty: true, env: { NO_COLOR: '1' } });
    tty.out.progress('waiting');
    tty.out.info('next');
    expect(tty.text.stderr).toBe(`\r${ESC}Kwaiting\r${ESC}Knext\n`);
  });
});

describe('the CLI shell', () => {
  it('prints the package version', async () => {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
    expect(VERSION).toBe(pkg.version);
    const r = await runCli(['--version']);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(VERSION);
  });

  it('documents exit codes in --help', async () => {
    const r = await runCli(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Exit codes:');
  });

  it('gives wrappers a JSON usage error with --json, even for errors commander finds', async () => {
    const r = await runCli(['--json', 'kubeconfig', '--no-such-flag']);
    expect(r.code).toBe(2);
    expect(r.json).toEqual([{ ok: false, error: { code: 'USAGE', message: "unknown option '--no-such-flag'", retryable: false } }]);
  });

  it('--json with no verb: a JSON usage error that says so, exit 2', async () => {
    const r = await runCli(['--json']);
    expect(r.code).toBe(2);
    expect(r.json).toEqual([{ ok: false, error: { code: 'USAGE', message: 'no command given', hint: 'Run qemu-kubesolo --help.', retryable: false } }]);
  });

  it('exits 2 on an unknown verb', async () => {
    const r = await runCli(['no-such-verb']);
    expect(r.code).toBe(2);
  });

  it('exits quietly with 141 (as SIGPIPE) when the reader of stdout goes away (| head): the output was cut', async () => {
    const child = spawn(process.execPath, [CLI_BUNDLE, '--help'], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.destroy(); // like `| head` closing early
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    const code = await new Promise<number | null>((r) => child.on('close', r));
    expect(stderr).not.toMatch(/EPIPE|\n\s+at |^\s*at /m);
    expect(code).toBe(141);
  });

  it('lists every verb in the top-level help', async () => {
    const r = await runCli(['--help']);
    for (const verb of ['artifacts', 'iso', 'kubeconfig', 'agent', 'fake-agent', 'doctor', 'domain-xml', 'virt-install-args', 'demo']) {
      expect(r.stdout).toMatch(new RegExp(`^  ${verb}\\b`, 'm'));
    }
  });

  it.each([
    'artifacts', 'iso', 'kubeconfig', 'agent', 'agent ping', 'agent info', 'agent exec', 'agent cat', 'agent execute',
    'fake-agent', 'doctor', 'domain-xml', 'virt-install-args', 'demo',
  ])('%s --help shows examples', async (verb) => {
    const r = await runCli([...verb.split(' '), '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Examples:\n  \$ (sudo )?qemu-kubesolo /);
  });
});
