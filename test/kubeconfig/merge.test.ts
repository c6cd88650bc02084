// --merge into the user's kubeconfig. Real files in a temp HOME, kubectl's lock file,
// two merges at once, a target that is not a kubeconfig, and a real kubectl reading the result against
// an API-server look-alike on 127.0.0.1.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { isQksError, type QksError } from '../../src/errors.js';
import { startFakeAgent, type FakeAgent } from '../../src/fake-agent/index.js';
import { getKubeconfig } from '../../src/kubeconfig/get.js';
import { BACKUP_SUFFIX, withKubeconfigLock } from '../../src/kubeconfig/merge-file.js';
import { DEFAULT_REMOTE_PATH, resolveKubeconfigOptions } from '../../src/kubeconfig/options.js';
import { describeWithPeers } from '../helpers/peers.js';
import { kubesoloKubeconfig, makePki, startApiServer, VERSION_REPLY, type Pki } from './builders.js';

const OTHER = `apiVersion: v1
kind: Config
clusters:
- name: prod
  cluster:
    server: https://prod.example.invalid:6443
contexts:
- name: prod
  context: {cluster: prod, user: prod-admin}
current-context: prod
users:
- name: prod-admin
  user: {token: abc}
`;

function kubectl(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile('kubectl', args, { env: { PATH: process.env.PATH, NO_PROXY: '*', ...env }, timeout: 30_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describeWithPeers('kubeconfig --merge', ['openssl'], () => {
  let dir: string;
  let pki: Pki;
  let agent: FakeAgent;
  let api: Awaited<ReturnType<typeof startApiServer>>;
  let n = 0;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'qks-kc-merge-'));
    pki = makePki(dir, 'kubesolo');
    api = await startApiServer(pki, '127.0.0.1');
    agent = await startFakeAgent({ socketPath: join(dir, 'qga.sock'), files: { [DEFAULT_REMOTE_PATH]: kubesoloKubeconfig(pki) } });
  });
  afterAll(async () => {
    await agent?.close();
    await api?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** A fresh HOME per test. */
  const home = () => {
    const h = join(dir, `home${n++}`);
    mkdirSync(h);
    return h;
  };
  const merge = (h: string, extra: { merge?: string | boolean; context?: string; useContext?: boolean; vm?: string } = {}, env: NodeJS.ProcessEnv = {}, lockWaitMs?: number) => {
    const o = resolveKubeconfigOptions({ socket: agent.socketPath, apiServer: `127.0.0.1:${api.port}` }, { HOME: h, ...env });
    return getKubeconfig({ ...o, merge: true, ...extra }, extra.vm ?? 'kubesolo', { env: { HOME: h, ...env }, ...(lockWaitMs ? { lockWaitMs } : {}) });
  };

  it('into a missing ~/.kube/config: a kubeconfig of its own, 0600, no standalone file, kubectl uses it', async () => {
    const h = home();
    const r = await merge(h, { useContext: true });
    const cfg = join(h, '.kube', 'config');
    expect(r.path).toBe(cfg);
    expect(r.merged).toMatchObject({ path: cfg, context: 'kubesolo', replaced: { cluster: false, user: false, context: false }, currentContext: { to: 'kubesolo' } });
    expect(r.merged!.backup).toBeUndefined();
    expect(statSync(cfg).mode & 0o777).toBe(0o600);
    expect(existsSync(join(h, '.kube', 'kubesolo'))).toBe(false);
    expect(existsSync(`${cfg}.lock`)).toBe(false);
  });

  it('beside other clusters: they stay, current-context stays without --use-context, one backup', async () => {
    const h = home();
    mkdirSync(join(h, '.kube'));
    const cfg = join(h, '.kube', 'config');
    writeFileSync(cfg, OTHER, { mode: 0o644 });
    const r = await merge(h, { vm: 'vm1' });
    const k = parse(readFileSync(cfg, 'utf8'));
    expect(k.contexts.map((c: { name: string }) => c.name)).toEqual(['prod', 'vm1']);
    expect(k.clusters[0]).toEqual(parse(OTHER).clusters[0]);
    expect(k['current-context']).toBe('prod');
    expect(k.clusters[1].cluster.server).toBe(`https://127.0.0.1:${api.port}`);
    expect(statSync(cfg).mode & 0o777).toBe(0o600);
    expect(r.merged!.backup).toBe(`${cfg}${BACKUP_SUFFIX}`);
    expect(readFileSync(`${cfg}${BACKUP_SUFFIX}`, 'utf8')).toBe(OTHER);
    // again: the same names are replaced, not doubled; the backup holds the previous version only
    const before = readFileSync(cfg, 'utf8');
    const again = await merge(h, { vm: 'vm1', useContext: true });
    expect(again.merged!.replaced).toEqual({ cluster: true, user: true, context: true });
    expect(parse(readFileSync(cfg, 'utf8')).contexts).toHaveLength(2);
    expect(parse(readFileSync(cfg, 'utf8'))['current-context']).toBe('vm1');
    expect(readFileSync(`${cfg}${BACKUP_SUFFIX}`, 'utf8')).toBe(before);
  });

  it("$KUBECONFIG's first file, --merge FILE and --context NAME", async () => {
    const h = home();
    const first = join(h, 'a.yaml');
    const r = await merge(h, { context: 'lab' }, { KUBECONFIG: `:${first}:${join(h, 'b.yaml')}` });
    expect(r.merged).toMatchObject({ path: first, context: 'lab' });
    expect(parse(readFileSync(first, 'utf8')).contexts[0]).toEqual({ name: 'lab', context: { cluster: 'lab', user: 'lab' } });
    expect(existsSync(join(h, 'b.yaml'))).toBe(false);
    const explicit = join(h, 'explicit', 'kc');
    const e = await merge(h, { merge: explicit }, { KUBECONFIG: first });
    expect(e.merged!.path).toBe(explicit);
  });

  it('a symlinked config: the link stays, its target is replaced', async () => {
    const h = home();
    mkdirSync(join(h, '.kube'));
    const real = join(h, 'dotfiles-kubeconfig');
    writeFileSync(real, OTHER);
    symlinkSync(real, join(h, '.kube', 'config'));
    await merge(h);
    expect(statSync(join(h, '.kube', 'config')).isFile()).toBe(true);
    expect(parse(readFileSync(real, 'utf8')).contexts).toHaveLength(2);
  });

  it.each([
    ['not YAML', 'clusters: [\n  - {name: x\n'],
    ['a YAML file of another kind', 'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\n'],
    ['a shell script', '#!/bin/sh\necho hello\n'],
  ])('a target that is %s: MERGE_TARGET_INVALID, nothing changed, no backup', async (_what, text) => {
    const h = home();
    const f = join(h, 'target');
    writeFileSync(f, text, { mode: 0o640 });
    const err = await merge(h, { merge: f }).catch((e: QksError) => e);
    expect(isQksError(err, 'MERGE_TARGET_INVALID'), String(err)).toBe(true);
    expect((err as QksError).exitCode).toBe(2);
    expect(readFileSync(f, 'utf8')).toBe(text);
    expect(statSync(f).mode & 0o777).toBe(0o640);
    expect(existsSync(`${f}${BACKUP_SUFFIX}`)).toBe(false);
    expect(existsSync(`${f}.lock`)).toBe(false);
  });

  it('an unsafe kubeconfig from the guest is not merged (exit 6), the file untouched', async () => {
    const h = home();
    const f = join(h, 'target');
    writeFileSync(f, OTHER);
    const bad = await startFakeAgent({
      socketPath: join(dir, 'bad.sock'),
      files: { [DEFAULT_REMOTE_PATH]: kubesoloKubeconfig(pki).replace('    client-key-data:', '    exec:\n      command: /bin/sh\n    client-key-data:') },
    });
    try {
      const o = resolveKubeconfigOptions({ socket: bad.socketPath, apiServer: `127.0.0.1:${api.port}` }, { HOME: h });
      const err = await getKubeconfig({ ...o, merge: f }, 'kubesolo', { env: { HOME: h } }).catch((e: QksError) => e);
      expect(isQksError(err, 'KUBECONFIG_UNSAFE')).toBe(true);
      expect(readFileSync(f, 'utf8')).toBe(OTHER);
      expect(existsSync(`${f}${BACKUP_SUFFIX}`)).toBe(false);
    } finally {
      await bad.close();
    }
  });

  describe('the lock', () => {
    it('a lock held (as kubectl holds it while writing) is waited for, then the merge goes on', async () => {
      const h = home();
      const f = join(h, 'locked');
      writeFileSync(f, OTHER);
      writeFileSync(`${f}.lock`, ''); // client-go's lock: an empty file created O_EXCL
      setTimeout(() => unlinkSync(`${f}.lock`), 700);
      const t0 = performance.now();
      const r = await merge(h, { merge: f });
      expect(performance.now() - t0).toBeGreaterThanOrEqual(600);
      expect(r.merged!.path).toBe(f);
      expect(parse(readFileSync(f, 'utf8')).contexts).toHaveLength(2);
      expect(existsSync(`${f}.lock`)).toBe(false);
    });

    it('a lock that stays: KUBECONFIG_LOCKED (exit 5) with the fix kubectl users know, nothing changed', async () => {
      const h = home();
      const f = join(h, 'stuck');
      writeFileSync(f, OTHER);
      writeFileSync(`${f}.lock`, '');
      const err = await merge(h, { merge: f }, {}, 500).catch((e: QksError) => e);
      expect(isQksError(err, 'KUBECONFIG_LOCKED'), String(err)).toBe(true);
      expect((err as QksError).exitCode).toBe(5);
      expect((err as QksError).message).toMatch(/stuck\.lock still exists .*kubectl \(or another tool\) is writing the file, or one that crashed left its lock/);
      expect((err as QksError).hint).toMatch(/error: open .*stuck\.lock: file exists.*remove .*stuck\.lock/);
      expect(readFileSync(f, 'utf8')).toBe(OTHER);
      expect(existsSync(`${f}.lock`)).toBe(true); // not ours to remove
    });

    it('a lock of ours left by a process that is gone: said so', async () => {
      const h = home();
      const f = join(h, 'dead');
      writeFileSync(`${f}.lock`, 'qemu-kubesolo pid 2147483646\n');
      const err = await merge(h, { merge: f }, {}, 300).catch((e: QksError) => e);
      expect((err as QksError).message).toMatch(/left by qemu-kubesolo process 2147483646, which is no longer running/);
    });

    it('merges at once (several VMs): every entry lands', async () => {
      const h = home();
      const f = join(h, 'many');
      writeFileSync(f, OTHER);
      await Promise.all(['vm-a', 'vm-b', 'vm-c', 'vm-d'].map((vm) => merge(h, { merge: f, vm })));
      const k = parse(readFileSync(f, 'utf8'));
      expect(k.contexts.map((c: { name: string }) => c.name).sort()).toEqual(['prod', 'vm-a', 'vm-b', 'vm-c', 'vm-d']);
      expect(k.clusters).toHaveLength(5);
      expect(k.users).toHaveLength(5);
    });
  });
});

describeWithPeers('kubeconfig --merge read by a real kubectl', ['openssl', 'kubectl'], () => {
  let dir: string;
  let pki: Pki;
  let agent: FakeAgent;
  let api: Awaited<ReturnType<typeof startApiServer>>;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'qks-kc-merge-kubectl-'));
    pki = makePki(dir, 'kubesolo');
    api = await startApiServer(pki, '127.0.0.1');
    agent = await startFakeAgent({ socketPath: join(dir, 'qga.sock'), files: { [DEFAULT_REMOTE_PATH]: kubesoloKubeconfig(pki) } });
  });
  afterAll(async () => {
    await agent?.close();
    await api?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('kubectl config get-contexts lists every context; kubectl --context <vm> version reaches the API server', async () => {
    const cfg = join(dir, '.kube', 'config');
    mkdirSync(join(dir, '.kube'));
    writeFileSync(cfg, OTHER);
    const o = resolveKubeconfigOptions({ socket: agent.socketPath, apiServer: `127.0.0.1:${api.port}` }, { HOME: dir });
    await getKubeconfig({ ...o, merge: true }, 'kubesolo', { env: { HOME: dir } });
    const env = { HOME: dir, KUBECONFIG: cfg };
    const ctx = await kubectl(['config', 'get-contexts', '-o', 'name'], env);
    expect(ctx.code, ctx.stderr).toBe(0);
    expect(ctx.stdout.split('\n').filter(Boolean).sort()).toEqual(['kubesolo', 'prod']);
    const cur = await kubectl(['config', 'current-context'], env);
    expect(cur.stdout.trim()).toBe('prod');
    const v = await kubectl(['--context', 'kubesolo', 'version', '-o', 'json', '--request-timeout=10s'], env);
    expect(v.code, v.stderr).toBe(0);
    expect(JSON.parse(v.stdout).serverVersion.gitVersion).toBe(VERSION_REPLY.gitVersion);
    // kubectl writes the file after our merge (its own lock): our entries survive its rewrite
    const use = await kubectl(['config', 'use-context', 'kubesolo'], env);
    expect(use.code, use.stderr).toBe(0);
    const after = parse(readFileSync(cfg, 'utf8'));
    expect(after['current-context']).toBe('kubesolo');
    expect(after.users.map((u: { name: string }) => u.name).sort()).toEqual(['kubesolo', 'prod-admin']);
  });

  it('while a merge holds the lock, kubectl refuses to write the file (the same lock file)', async () => {
    const cfg = join(dir, 'locked-by-us');
    writeFileSync(cfg, OTHER);
    const r = await withKubeconfigLock(cfg, () => kubectl(['config', 'set-context', 'x', '--cluster', 'prod'], { HOME: dir, KUBECONFIG: cfg }));
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/locked-by-us\.lock/);
    expect(readFileSync(cfg, 'utf8')).toBe(OTHER);
  });
});
