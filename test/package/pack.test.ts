/**
 * What `npm pack` ships, and that it works once installed: the tarball holds the command (dist/bin) and the bundles, the library's
 * JavaScript and .d.ts files, templates, the guide's two scripts and the README, and nothing else
 * (no tests, fixtures, TypeScript sources or source maps); `npm install -g` of it gives a working bin
 * and a library importable, with types, from both entry points (`qemu-kubesolo`, `qemu-kubesolo/low-level`).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));

describe('npm pack and install -g', () => {
  let tmp: string;
  let tarball: string;
  let files: string[];
  let prefix: string;

  beforeAll(() => {
    tmp = mkdtempSync(join(tmpdir(), 'qks-pack-'));
    const out = execFileSync('npm', ['pack', '--json', '--pack-destination', tmp], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 240_000 });
    const info = JSON.parse(out.slice(out.indexOf('['))) as { filename: string; files: { path: string }[] }[];
    tarball = join(tmp, info[0]!.filename);
    files = info[0]!.files.map((f) => f.path).sort();
    prefix = join(tmp, 'prefix');
    execFileSync('npm', ['install', '-g', '--prefix', prefix, '--prefer-offline', '--no-audit', '--no-fund', tarball], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 240_000,
    });
  }, 600_000);
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('ships only what users need', () => {
    expect(files).toContain('dist/bin/qemu-kubesolo.cjs');
    expect(files).toContain('dist/bin/qemu-kubesolo.chunks');
    expect(files).toContain('dist/qemu-kubesolo.cjs');
    expect(files).toContain('dist/qemu-kubesolo.mjs');
    expect(files).toContain('dist/lib/index.js');
    expect(files).toContain('dist/lib/index.d.ts');
    expect(files).toContain('templates/user-data.template');
    expect(files).toContain('scripts/generate-cloud-init.sh');
    expect(files).toContain('scripts/get-kubeconfig.sh');
    expect(files).toContain('README.md');
    const unwanted = files.filter((f) => /^(test|fixtures|bench|src)\/|\.map$|\.test\.|(^|\/)\.ci\//.test(f) || (f.endsWith('.ts') && !f.endsWith('.d.ts')));
    expect(unwanted).toEqual([]);
  });

  it('installs a working qemu-kubesolo command: the loader of dist/bin, through its symlink', () => {
    const bin = join(prefix, 'bin', 'qemu-kubesolo');
    expect(realpathSync(bin)).toBe(join(prefix, 'lib', 'node_modules', 'qemu-kubesolo', 'dist', 'bin', 'qemu-kubesolo.cjs'));
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
    expect(execFileSync(bin, ['--version'], { encoding: 'utf8' }).trim()).toBe(pkg.version);
    const out = join(tmp, 'artifacts');
    // twice: the first run reads its chunks from qemu-kubesolo.chunks beside the loader, the second from its pack
    for (const _ of [1, 2]) {
      rmSync(out, { recursive: true, force: true });
      execFileSync(bin, ['artifacts', '--output-dir', out, '--create-iso'], { env: { ...process.env, HOME: tmp, SSH_PUBLIC_KEY: '' }, stdio: 'pipe' });
      expect(existsSync(join(out, 'cidata.iso'))).toBe(true);
    }
  });

  it('installs an importable, typed library: the front door and qemu-kubesolo/low-level', () => {
    const dir = join(prefix, 'lib', 'node_modules', 'qemu-kubesolo');
    expect(readFileSync(join(dir, 'dist/lib/index.d.ts'), 'utf8')).toContain('fetchKubeconfig');
    expect(readFileSync(join(dir, 'dist/lib/low-level.d.ts'), 'utf8')).toContain('SshPool');
    // resolved by package name, through package.json "exports", as a caller's code does
    const front = ['buildIso', 'openAgent', 'AgentClient', 'startFakeAgent', 'fetchKubeconfig', 'generateArtifacts', 'QksError'];
    const low = ['SshPool', 'FrameDecoder', 'XdrWriter', 'rankChannelSockets', 'domainXml', 'rewriteKubeconfigServer'];
    const script = `const f = await import('qemu-kubesolo'); const l = await import('qemu-kubesolo/low-level');
      console.log(JSON.stringify([${JSON.stringify(front)}.map((n) => typeof f[n]), ${JSON.stringify(low)}.map((n) => typeof l[n])]));`;
    const cwd = join(prefix, 'lib');
    const types = JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd, encoding: 'utf8' })) as string[][];
    expect(types).toEqual([front.map(() => 'function'), low.map(() => 'function')]);
    // and typed: a caller's TypeScript (nodenext resolution) type-checks against both entry points
    writeFileSync(
      join(cwd, 'caller.mts'),
      `import { fetchKubeconfig, type KubeconfigResult } from 'qemu-kubesolo';\nimport { SshPool, type ChannelSocket } from 'qemu-kubesolo/low-level';\n` +
        `export const a: () => Promise<KubeconfigResult> = () => fetchKubeconfig({ vmName: 'x', output: false });\nexport const b: ChannelSocket[] = [];\nexport const c = new SshPool();\n`,
    );
    const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
    const args = ['--noEmit', '--strict', '--skipLibCheck', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--typeRoots', join(root, 'node_modules', '@types'), '--types', 'node', 'caller.mts'];
    execFileSync(process.execPath, [tsc, ...args], { cwd, encoding: 'utf8', stdio: 'pipe', timeout: 120_000 });
  }, 180_000);
});
