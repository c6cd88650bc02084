/**
 * The single executable (`npm run sea`, scripts/sea.mjs) on a host without Node: run with an empty
 * environment (no PATH, so no `node` to fall back on) from an empty directory, it answers --version,
 * writes artifacts and a cidata.iso that isoinfo and bsdtar read back, and reads a guest file through
 * the real qemu-ga. With a HOME it keeps each verb's pack there, as the bundle does.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { kubeconfigLike, startRealAgent, type AgentPeer } from '../agent/peers.js';
import { describeWithPeers, sh } from '../helpers/peers.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKh2ZpQ6bN5FOg5v8cZ9m7ZP8r4yYx0g4kXrGmQn3fW1 test@host';

/** Why no single executable can be built here (it is linux-x64, from a node that has the SEA fuse). */
function cannotBuild(): string | undefined {
  if (process.platform !== 'linux' || process.arch !== 'x64') return `single executables are built for linux-x64 (this is ${process.platform}-${process.arch})`;
  if (spawnSync('grep', ['-qF', 'NODE_SEA_FUSE_', process.execPath]).status !== 0) return `${process.execPath} was built without single-executable support`;
  return undefined;
}

describeWithPeers(
  'single executable with no node and an empty environment',
  ['qemu-ga', 'isoinfo', 'bsdtar'],
  () => {
    let tmp: string;
    let exe: string;
    let cwd: string;
    let agent: AgentPeer;
    const run = (args: string[]) => spawnSync(exe, args, { cwd, env: {}, encoding: 'utf8', timeout: 30_000 });

    beforeAll(async () => {
      tmp = mkdtempSync(join(tmpdir(), 'qks-sea-'));
      exe = join(tmp, 'bin', 'qemu-kubesolo');
      mkdirSync(join(tmp, 'bin'));
      execFileSync(process.execPath, [join(root, 'scripts/sea.mjs'), exe], { stdio: ['ignore', 'ignore', 'pipe'], timeout: 300_000 });
      cwd = join(tmp, 'empty');
      mkdirSync(cwd);
      agent = await startRealAgent();
    }, 320_000);
    afterAll(async () => {
      await agent?.close();
      if (tmp) rmSync(tmp, { recursive: true, force: true });
    });

    it('is one executable file', () => {
      expect(readdirSync(join(tmp, 'bin'))).toEqual(['qemu-kubesolo']);
      expect(statSync(exe).mode & 0o111).toBe(0o111);
    });

    it('prints its version, touching nothing in the directory', () => {
      const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
      const r = run(['--version']);
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toBe(`${pkg.version}\n`);
      expect(r.stderr).toBe('');
      expect(readdirSync(cwd)).toEqual([]);
    });

    it('reads a guest file through the real qemu-ga', () => {
      const path = join(agent.dir, 'admin.kubeconfig');
      agent.writeGuestFile(path, kubeconfigLike());
      const r = run(['agent', 'cat', '--socket', agent.socketPath, path]);
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toBe(kubeconfigLike());
      expect(readdirSync(cwd)).toEqual([]);
    });

    it('keeps a pack per verb under HOME, as the bundle does, and a later run is served by it alone', () => {
      const home = join(tmp, 'home');
      mkdirSync(home);
      const path = join(agent.dir, 'admin.kubeconfig');
      agent.writeGuestFile(path, kubeconfigLike());
      const cat = () => {
        const r = spawnSync(exe, ['agent', 'cat', '--socket', agent.socketPath, path], { cwd, env: { HOME: home }, encoding: 'utf8', timeout: 30_000 });
        expect(r.status, r.stderr).toBe(0);
        expect(r.stdout).toBe(kubeconfigLike());
      };
      const verbDir = join(home, '.cache/qemu-kubesolo', `v8-${process.version}-${process.arch}`, 'agent-cat');
      const pack = () => {
        const files = readdirSync(verbDir).filter((f) => f.endsWith('.v8'));
        expect(files).toHaveLength(1);
        const b = readFileSync(join(verbDir, files[0]!));
        const st = statSync(join(verbDir, files[0]!));
        return { gen: (JSON.parse(b.toString('latin1', 4, 4 + b.readUInt32LE(0))) as { gen: number }).gen, ino: st.ino, mode: st.mode & 0o777 };
      };
      cat(); // compiled from the executable's chunks: a pack of what it compiled
      expect(pack()).toMatchObject({ gen: 1, mode: 0o600 });
      cat(); // served by it: written back with what ran
      const second = pack();
      expect(second.gen).toBe(2);
      cat(); // served wholly by a pack V8 took: nothing to write (the loader rewrites a pack it lacked a chunk of, or V8 refused)
      expect(pack().ino).toBe(second.ino);
      expect(readdirSync(cwd)).toEqual([]);
    });

    it('writes artifacts and a cidata.iso that isoinfo and bsdtar read back', () => {
      const r = run(['--json', 'artifacts', '--ssh-key', KEY, '--output-dir', 'out', '--create-iso']);
      expect(r.status, r.stderr).toBe(0);
      const result = JSON.parse(r.stdout.trim().split('\n').pop()!) as { files: { name: string }[] };
      expect(result.files.map((f) => f.name).sort()).toEqual(['cidata.iso', 'meta-data', 'user-data']);
      const iso = join(cwd, 'out', 'cidata.iso');
      expect(sh('isoinfo', ['-d', '-i', iso])).toMatch(/^Volume id: cidata$/m);
      const extracted = join(tmp, 'extracted');
      mkdirSync(extracted);
      sh('bsdtar', ['-xf', iso, '-C', extracted]);
      for (const f of ['user-data', 'meta-data']) expect(readFileSync(join(extracted, f), 'utf8')).toBe(readFileSync(join(cwd, 'out', f), 'utf8'));
      expect(readFileSync(join(extracted, 'user-data'), 'utf8')).toMatch(/^#cloud-config\n/);
    });

    it('reports a usage error with its exit code and no stack trace', () => {
      const r = run(['agent', 'cat']);
      expect(r.status).toBe(2);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    });
  },
  cannotBuild,
);
