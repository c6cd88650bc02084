/**
 * The single-file build for minimal hosts: `dist/qemu-kubesolo.cjs` (and the same program
 * as `.mjs`) copied alone to a directory with no node_modules and no templates runs with a bare `node`,
 * generates artifacts (templates embedded) and reads a kubeconfig through the real qemu-ga. The
 * installed command (dist/bin: a loader and its chunks file) runs from its chunks file, then from its
 * pack, and says what is wrong when its chunks file is missing or of another build.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Script } from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRealAgent, type AgentPeer } from '../agent/peers.js';
import { describeWithPeers } from '../helpers/peers.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

for (const name of ['qemu-kubesolo.cjs', 'qemu-kubesolo.mjs']) {
  describeWithPeers(`single-file bundle ${name} on a bare node`, ['qemu-ga'], () => {
    let dir: string;
    let bundle: string;
    let agent: AgentPeer;
    const run = (args: string[]) =>
      spawnSync(process.execPath, [bundle, ...args], { cwd: dir, encoding: 'utf8', env: { PATH: '/usr/bin:/bin', HOME: join(dir, 'home'), NO_COLOR: '1' }, timeout: 30_000 });

    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'qks-bundle-'));
      const built = join(dir, `build${name.slice(name.lastIndexOf('.'))}`);
      execFileSync(process.execPath, [join(root, 'scripts/bundle.mjs'), built]);
      mkdirSync(join(dir, 'app'));
      bundle = join(dir, 'app', name);
      copyFileSync(built, bundle);
      rmSync(built);
      agent = await startRealAgent();
    });
    afterAll(async () => {
      await agent?.close();
      rmSync(dir, { recursive: true, force: true });
    });

    it('is one file with nothing beside it', () => {
      expect(readdirSync(join(dir, 'app'))).toEqual([name]);
      expect(readFileSync(bundle, 'utf8').startsWith('#!/usr/bin/env node')).toBe(true);
    });

    it('generates artifacts and an ISO from its embedded templates', () => {
      const key = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKh2ZpQ6bN5FOg5v8cZ9m7ZP8r4yYx0g4kXrGmQn3fW1 test@host';
      const r = run(['--json', 'artifacts', '--ssh-key', key, '--output-dir', join(dir, 'out'), '--create-iso']);
      expect(r.status, r.stderr).toBe(0);
      const result = JSON.parse(r.stdout.trim().split('\n').pop()!) as { files: { name: string }[] };
      expect(result.files.map((f) => f.name).sort()).toEqual(['cidata.iso', 'meta-data', 'user-data']);
      expect(readFileSync(join(dir, 'out/user-data'), 'utf8')).toMatch(/^#cloud-config\n/);
    });

    it('reads a guest file through the real qemu-ga', () => {
      const path = join(agent.dir, 'admin.kubeconfig');
      agent.writeGuestFile(path, 'apiVersion: v1\nkind: Config\n');
      const r = run(['agent', 'cat', '--socket', agent.socketPath, path]);
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toBe('apiVersion: v1\nkind: Config\n');
    });
  });
}

describeWithPeers('the installed command: a loader and its chunks file (dist/bin)', ['qemu-ga'], () => {
  let dir: string;
  let agent: AgentPeer;
  const guestText = 'apiVersion: v1\nkind: Config\n';
  const cat = (bin: string, home: string) => {
    const path = join(agent.dir, 'split.kubeconfig');
    agent.writeGuestFile(path, guestText);
    return spawnSync(process.execPath, [bin, 'agent', 'cat', '--socket', agent.socketPath, path], { encoding: 'utf8', env: { PATH: '/usr/bin:/bin', HOME: home }, timeout: 30_000 });
  };
  /** The pair, built into a directory of its own; returns the loader's path. */
  const install = (name: string) => {
    const bin = join(dir, name, 'qemu-kubesolo.cjs');
    mkdirSync(join(dir, name));
    execFileSync(process.execPath, [join(root, 'scripts/bundle.mjs'), bin, '--split']);
    return bin;
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'qks-split-'));
    agent = await startRealAgent();
  });
  afterAll(async () => {
    await agent?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('is a small loader beside the chunks, and runs from the chunks file, then from its pack', () => {
    const bin = install('ok');
    expect(readdirSync(join(dir, 'ok')).sort()).toEqual(['qemu-kubesolo.chunks', 'qemu-kubesolo.cjs']);
    expect(statSync(bin).size).toBeLessThan(16 * 1024);
    expect(statSync(bin).mode & 0o111).toBe(0o111);
    const home = join(dir, 'home-ok');
    for (const _ of [1, 2, 3]) {
      const r = cat(bin, home);
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toBe(guestText);
    }
    // served by its pack, it needs nothing of the chunks file
    rmSync(join(dir, 'ok', 'qemu-kubesolo.chunks'));
    const r = cat(bin, home);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe(guestText);
  });

  it('without its chunks file, or with one of another build, says so and exits 1 (no stack trace)', () => {
    const bin = install('broken');
    const chunks = join(dir, 'broken', 'qemu-kubesolo.chunks');
    const text = readFileSync(chunks, 'latin1');
    // another build's: the stamp that closes the file differs
    writeFileSync(chunks, text.slice(0, -19) + '0'.repeat(16) + text.slice(-3), 'latin1');
    let r = cat(bin, join(dir, 'home-other'));
    expect(r.status).toBe(1);
    expect(r.stderr).toBe(`error: ${chunks} is not the file this run started from (replaced or damaged): run the command again, or reinstall it\n`);
    rmSync(chunks);
    r = cat(bin, join(dir, 'home-missing'));
    expect(r.status).toBe(1);
    expect(r.stderr).toBe(`error: cannot read ${chunks} (ENOENT), a part of this command: reinstall it\n`);
  });
});

describe('the loader and the single executable agree on what a chunk compiles as', () => {
  it("a built-in code cache of wrapChunk's text (scripts/sea.mjs) is taken by V8 for the loader's own wrap", async () => {
    const { singleFile, wrapChunk, CHUNK_PARAMS } = (await import(pathToFileURL(join(root, 'scripts/bundle.mjs')).href)) as {
      singleFile: (chunks: Record<string, string>, o: object) => string;
      wrapChunk: (code: string) => string;
      CHUNK_PARAMS: string[];
    };
    const code = 'module.exports=()=>42;';
    const text = singleFile({ './main.js': code }, { format: 'cjs', layout: 'assets', caches: new Set(['./main.js']) });
    const wrapSource = /const wrap=(\(src\)=>[^;]+);/.exec(text)?.[1];
    expect(wrapSource).toBeDefined();
    const wrap = new Function('PARAMS', `return ${wrapSource}`)(CHUNK_PARAMS) as (src: string) => string;
    expect(wrap(code)).toBe(wrapChunk(code));
    const script = new Script(wrap(code), { cachedData: new Script(wrapChunk(code)).createCachedData() });
    expect(script.cachedDataRejected).toBe(false);
  });
});
