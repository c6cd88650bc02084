// scripts/get-kubeconfig.sh: the guide's flags, handed to the CLI unchanged; nothing else accepted.
import { execFile } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI_BUNDLE } from '../helpers/cli.js';

const SCRIPT = fileURLToPath(new URL('../../scripts/get-kubeconfig.sh', import.meta.url));

function run(script: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile('bash', [script, ...args], { env, timeout: 20_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describe('scripts/get-kubeconfig.sh', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'qks-kc-script-'));
    // a repo without dist/: the script falls back to qemu-kubesolo on PATH, here a stand-in that prints its argv
    mkdirSync(join(dir, 'bare', 'scripts'), { recursive: true });
    copyFileSync(SCRIPT, join(dir, 'bare', 'scripts', 'get-kubeconfig.sh'));
    mkdirSync(join(dir, 'bin'));
    writeFileSync(join(dir, 'bin', 'qemu-kubesolo'), '#!/bin/sh\nfor a in "$@"; do printf "%s\\n" "$a"; done\n');
    chmodSync(join(dir, 'bin', 'qemu-kubesolo'), 0o755);
    // a repo with dist/: the script runs the bundle with node
    mkdirSync(join(dir, 'built', 'scripts'), { recursive: true });
    mkdirSync(join(dir, 'built', 'dist'));
    copyFileSync(SCRIPT, join(dir, 'built', 'scripts', 'get-kubeconfig.sh'));
    symlinkSync(CLI_BUNDLE, join(dir, 'built', 'dist', 'qemu-kubesolo.mjs'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const env = () => ({ PATH: `${join(dir, 'bin')}:${process.env.PATH}`, HOME: dir });

  it("passes the guide's flags through as they are", async () => {
    const args = ['--vm-name', 'kubesolo', '--method', 'ssh', '--api-server', '10.0.0.50', '--output', '/x/y z', '--wait', '--vm-ip', '192.168.122.50', '--ssh-user', 'alpine', '--ssh-key', '/k', '--method=guest-agent'];
    const r = await run(join(dir, 'bare', 'scripts', 'get-kubeconfig.sh'), args, env());
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.split('\n').filter(Boolean)).toEqual(['kubeconfig', ...args]);
  });

  it('refuses anything else, and a flag without its value: exit 2', async () => {
    for (const args of [['--socket', '/s'], ['--json'], ['--vm-name']]) {
      const r = await run(join(dir, 'bare', 'scripts', 'get-kubeconfig.sh'), args, env());
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/Usage: get-kubeconfig\.sh/);
    }
    expect((await run(join(dir, 'bare', 'scripts', 'get-kubeconfig.sh'), ['--help'], env())).code).toBe(0);
  });

  it('runs the built CLI from dist/ when there is one', async () => {
    const r = await run(join(dir, 'built', 'scripts', 'get-kubeconfig.sh'), ['--method', 'virsh'], env());
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--method: must be guest-agent or ssh/);
  });
});
