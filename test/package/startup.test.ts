/**
 * What a start of the bundle loads (scripts/bundle.mjs): `--version` compiles only the tiny entry chunks,
 * and built-in modules a verb does not use (child_process, zlib, tls) stay unloaded. Speed itself is
 * measured in bench/startup.bench.ts, never asserted here.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRealAgent, type AgentPeer } from '../agent/peers.js';
import { describeWithPeers } from '../helpers/peers.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
let dir: string;
let bundle: string;
let hook: string;

/** Runs the bundle; returns its exit status, stdout and the built-in modules the process loaded. */
function run(file: string, args: string[]): { status: number | null; stdout: string; stderr: string; builtins: Set<string> } {
  const r = spawnSync(process.execPath, ['--require', hook, file, ...args], { cwd: dir, encoding: 'utf8', env: { PATH: '/usr/bin:/bin', HOME: dir }, timeout: 30_000 });
  const line = r.stderr.split('\n').find((l) => l.startsWith('MODULES '));
  const builtins = new Set((JSON.parse(line?.slice(8) ?? '[]') as string[]).filter((m) => m.startsWith('NativeModule ')).map((m) => m.slice(13)));
  return { status: r.status, stdout: r.stdout, stderr: r.stderr.replace(/^MODULES .*\n?/m, ''), builtins };
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'qks-startup-'));
  bundle = join(dir, 'qemu-kubesolo.cjs');
  execFileSync(process.execPath, [join(root, 'scripts/bundle.mjs'), bundle]);
  hook = join(dir, 'hook.cjs');
  writeFileSync(hook, `process.on('exit', () => process.stderr.write('MODULES ' + JSON.stringify(process.moduleLoadList) + '\\n'));\n`);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('bundle start-up', () => {
  it('compiles only the entry (under 4 KB of code) for --version', () => {
    const traced = join(dir, 'traced.cjs');
    execFileSync(process.execPath, [join(root, 'scripts/bundle.mjs'), traced, '--trace']);
    const r = run(traced, ['--version']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^\d+\.\d+\.\d+\n$/);
    const compiled = r.stderr
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { id: string; bytes?: number });
    const bytes = compiled.reduce((n, c) => n + (c.bytes ?? 0), 0);
    expect(bytes, JSON.stringify(compiled)).toBeLessThan(4096);
    // the whole CLI is far bigger: --help compiles every verb
    const help = run(traced, ['--help']).stderr.split('\n').filter((l) => l.startsWith('{'));
    expect(help.reduce((n, l) => n + ((JSON.parse(l) as { bytes?: number }).bytes ?? 0), 0)).toBeGreaterThan(100_000);
  });

  it('loads no child_process, zlib or tls for --version', () => {
    const r = run(bundle, ['--version']);
    expect(r.status).toBe(0);
    for (const m of ['child_process', 'zlib', 'tls']) expect(r.builtins.has(m), m).toBe(false);
  });

  it('loads child_process only when a verb spawns something: not for iso --help', () => {
    const r = run(bundle, ['iso', '--help']);
    expect(r.status).toBe(0);
    expect(r.builtins.has('child_process')).toBe(false);
  });
});

describeWithPeers('bundle start-up against the real qemu-ga', ['qemu-ga'], () => {
  let agent: AgentPeer;
  beforeAll(async () => (agent = await startRealAgent()));
  afterAll(async () => agent?.close());

  it('agent ping loads neither child_process nor tls', () => {
    const r = run(bundle, ['agent', 'ping', '--socket', agent.socketPath]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.builtins.has('child_process')).toBe(false);
    expect(r.builtins.has('tls')).toBe(false);
  });
});
