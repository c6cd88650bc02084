// --method ssh against a real OpenSSH sshd on 127.0.0.1 (test/helpers/sshd.ts: its own config, host key,
// authorized key and known_hosts, all made by the test), with hostile remote paths.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { describeWithPeers } from '../helpers/peers.js';
import { freePort, startSshd, type TestSshd } from '../helpers/sshd.js';

const ADMIN = readFileSync(new URL('../../fixtures/kubeconfig/admin.kubeconfig', import.meta.url), 'utf8');

const HOSTILE = ['with space', 'semi;touch PWNED1', '$(touch PWNED2)', '`touch PWNED3`', `it's "quoted"`, 'trail ', '-dash', 'star*?[a]', 'back\\slash', 'new$HOME'];

describeWithPeers('kubeconfig over SSH to a real sshd', ['sshd', 'ssh', 'ssh-keygen'], () => {
  let dir: string;
  let sshd: TestSshd;
  let port: number;
  let common: string[];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'qks-kc-ssh-'));
    sshd = await startSshd();
    port = sshd.port;
    // the guest's files: the kubeconfig under every hostile directory name
    for (const h of HOSTILE) {
      mkdirSync(join(dir, 'guest', h), { recursive: true });
      writeFileSync(join(dir, 'guest', h, 'admin.kubeconfig'), ADMIN.replace('kubesolo', `kubesolo-${HOSTILE.indexOf(h)}`));
    }
    common = ['--method', 'ssh', '--vm-ip', '127.0.0.1', '--ssh-port', String(port), '--ssh-user', userInfo().username, '--no-verify-server'];
  });

  afterAll(async () => {
    await sshd?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const trusted = () => ['--ssh-key', sshd.key, '--ssh-option', `UserKnownHostsFile=${join(sshd.dir, 'known_hosts')}`, '--ssh-option', 'StrictHostKeyChecking=yes'];

  it('reads the kubeconfig, hostile paths and all, with no injection', async () => {
    for (const [i, h] of HOSTILE.entries()) {
      const out = join(dir, 'out', String(i));
      const r = await runCli(['--json', 'kubeconfig', ...common, ...trusted(), '--remote-path', join(dir, 'guest', h, 'admin.kubeconfig'), '--api-server', '10.0.0.5', '--output', out]);
      expect(r.code, `${h}: ${r.stderr}`).toBe(0);
      expect(r.json[0]).toMatchObject({ ok: true, method: 'ssh', server: 'https://10.0.0.5:6443' });
      expect(readFileSync(out, 'utf8')).toBe(ADMIN.replace('kubesolo', `kubesolo-${i}`).replace('127.0.0.1', '10.0.0.5'));
    }
    for (const d of [dir, join(dir, 'guest'), homedir(), process.cwd(), '/']) {
      expect(readdirSync(d).filter((f) => f.startsWith('PWNED'))).toEqual([]);
    }
  });

  // the same rule as through the agent (test/kubeconfig/unsafe.test.ts)
  it('an exec plugin in the file: exit 6 naming the key, nothing written', async () => {
    const path = join(dir, 'guest', 'exec.kubeconfig');
    writeFileSync(path, ADMIN.replace('    client-key-data:', '    exec:\n      command: /bin/sh\n    client-key-data:'));
    const out = join(dir, 'exec-out');
    const r = await runCli(['kubeconfig', ...common, ...trusted(), '--remote-path', path, '--output', out]);
    expect(r.code, r.stderr).toBe(6);
    expect(r.stderr).toMatch(/users\[0\]\.user\.exec .*\[KUBECONFIG_UNSAFE\]/s);
    expect(existsSync(out)).toBe(false);
  });

  it('a missing file: exit 3', async () => {
    const r = await runCli(['kubeconfig', ...common, ...trusted(), '--remote-path', join(dir, 'guest', 'nope'), '--output', join(dir, 'nope')]);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/GUEST_FILE_NOT_FOUND/);
  });

  it('a refused key: exit 4', async () => {
    const r = await runCli(['kubeconfig', ...common, '--ssh-key', sshd.badKey, '--ssh-option', `UserKnownHostsFile=${join(sshd.dir, 'known_hosts')}`, '--remote-path', join(dir, 'guest', 'with space', 'admin.kubeconfig'), '--output', join(dir, 'refused')]);
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(/refused the SSH key \[SSH_AUTH\]/);
  });

  it('an unknown host key under StrictHostKeyChecking=yes, and a changed one under the default: exit 7', async () => {
    const path = join(dir, 'guest', 'with space', 'admin.kubeconfig');
    const unknown = await runCli(['kubeconfig', ...common, '--ssh-key', sshd.key, '--ssh-option', `UserKnownHostsFile=${join(sshd.dir, 'known_hosts.empty')}`, '--ssh-option', 'StrictHostKeyChecking=yes', '--remote-path', path, '--output', join(dir, 'unknown')]);
    expect(unknown.code).toBe(7);
    expect(unknown.stderr).toMatch(/SSH_HOST_KEY/);
    const otherPub = readFileSync(`${sshd.badKey}.pub`, 'utf8').split(' ').slice(0, 2).join(' ');
    writeFileSync(join(dir, 'changed_known_hosts'), `[127.0.0.1]:${port} ${otherPub}\n`);
    const changed = await runCli(['kubeconfig', ...common, '--ssh-key', sshd.key, '--ssh-option', `UserKnownHostsFile=${join(dir, 'changed_known_hosts')}`, '--remote-path', path, '--output', join(dir, 'changed')]);
    expect(changed.code).toBe(7);
    expect(changed.stderr).toMatch(/SSH_HOST_KEY/);
    expect(existsSync(join(dir, 'changed'))).toBe(false);
  });

  it('nothing listening: exit 7 at once; with --wait, exit 5 at the timeout', async () => {
    const closed = await freePort();
    const args = ['kubeconfig', '--method', 'ssh', '--vm-ip', '127.0.0.1', '--ssh-port', String(closed), ...trusted(), '--output', join(dir, 'closed')];
    const r = await runCli(args);
    expect(r.code).toBe(7);
    expect(r.stderr).toMatch(/Connection refused/);
    const w = await runCli([...args, '--wait', '--timeout', '1']);
    expect(w.code).toBe(5);
  });
});
