import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { CLI_BUNDLE, runCli } from './helpers/cli.js';
import { VERSION } from '../src/version.js';

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

  it('exits 2 on an unknown verb', async () => {
    const r = await runCli(['no-such-verb']);
    expect(r.code).toBe(2);
  });

  it('exits quietly when the reader of stdout goes away (| head)', async () => {
    const child = spawn(process.execPath, [CLI_BUNDLE, '--help'], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.destroy(); // like `| head` closing early
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    const code = await new Promise<number | null>((r) => child.on('close', r));
    expect(stderr).not.toMatch(/EPIPE|at .*\.mjs/);
    expect(code).toBe(0);
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
