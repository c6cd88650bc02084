// A kubeconfig from the guest that would make kubectl run a
// program, read host files or drop TLS is refused through the CLI: exit 6 naming the key, nothing written
// and nothing merged. Through the fake agent here; over SSH in ssh.test.ts.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startFakeAgent, type FakeAgent } from '../../src/fake-agent/index.js';
import { DEFAULT_REMOTE_PATH } from '../../src/kubeconfig/options.js';
import { runCli } from '../helpers/cli.js';

const ADMIN = readFileSync(new URL('../../fixtures/kubeconfig/admin.kubeconfig', import.meta.url), 'utf8');
const userAdd = (lines: string) => ADMIN.replace('    client-key-data:', `${lines}\n    client-key-data:`);
const clusterAdd = (lines: string) => ADMIN.replace('    server: https://127.0.0.1:6443', `    server: https://127.0.0.1:6443\n${lines}`);

export const HOSTILE: [string, string, string][] = [
  ['exec', userAdd('    exec:\n      apiVersion: client.authentication.k8s.io/v1\n      command: /bin/sh\n      args: ["-c", "touch PWNED"]'), 'users[0].user.exec'],
  ['auth-provider', userAdd('    auth-provider:\n      name: gcp\n      config: {cmd-path: /bin/sh}'), 'users[0].user.auth-provider'],
  ['client-certificate', userAdd('    client-certificate: /etc/ssl/private/host.pem'), 'users[0].user.client-certificate'],
  ['client-key', userAdd('    client-key: /root/.ssh/id_ed25519'), 'users[0].user.client-key'],
  ['tokenFile', ADMIN.replace('    token: not-a-real-token', '    tokenFile: /var/run/secrets/token\n    token: not-a-real-token'), 'users[1].user.tokenFile'],
  ['certificate-authority', clusterAdd('    certificate-authority: /etc/ssl/certs/ca.pem'), 'clusters[0].cluster.certificate-authority'],
  ['proxy-url', clusterAdd('    proxy-url: http://127.0.0.1:3128'), 'clusters[0].cluster.proxy-url'],
  ['insecure-skip-tls-verify', clusterAdd('    insecure-skip-tls-verify: true'), 'clusters[0].cluster.insecure-skip-tls-verify'],
  ['extensions', `${ADMIN}extensions:\n- name: x\n  extension: {a: 1}\n`, 'extensions'],
  ['an http server', ADMIN.replace('https://127.0.0.1:6443', 'http://127.0.0.1:6443'), 'clusters[0].cluster.server'],
  ['a server with a user part', ADMIN.replace('https://127.0.0.1:6443', 'https://user:pass@127.0.0.1:6443'), 'clusters[0].cluster.server'],
  ['a file server', ADMIN.replace('https://127.0.0.1:6443', 'file:///etc/passwd'), 'clusters[0].cluster.server'],
  ['a unix server', ADMIN.replace('https://127.0.0.1:6443', 'unix:///run/containerd.sock'), 'clusters[0].cluster.server'],
];

let dir: string;
const agents: FakeAgent[] = [];
let n = 0;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'qks-kc-unsafe-'));
});
afterEach(async () => {
  await Promise.all(agents.splice(0).map((a) => a.close()));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function serve(text: string): Promise<FakeAgent> {
  const a = await startFakeAgent({ socketPath: join(dir, `a${n++}.sock`), files: { [DEFAULT_REMOTE_PATH]: text } });
  agents.push(a);
  return a;
}

describe('an unsafe kubeconfig from the guest', () => {
  it.each(HOSTILE)('%s: exit 6 naming the key, nothing written', async (_what, text, path) => {
    const a = await serve(text);
    const out = join(dir, `out-${n}`);
    const r = await runCli(['--json', 'kubeconfig', '--socket', a.socketPath, '--api-server', '10.0.0.50', '--output', out, '--no-verify-server'], { env: { HOME: dir } });
    expect(r.code, r.stderr).toBe(6);
    const err = (r.json[0] as { error: { code: string; message: string; details: { findings: { path: string }[] } } }).error;
    expect(err.code).toBe('KUBECONFIG_UNSAFE');
    expect(err.message).toContain(path);
    expect(err.details.findings.map((f) => f.path)).toContain(path);
    expect(r.stderr + r.stdout).not.toContain('/bin/sh');
    expect(existsSync(out)).toBe(false);
    expect(readdirSync(dir).filter((f) => f.startsWith('PWNED'))).toEqual([]);
  });

  it('without --json: one line naming the key and the way out', async () => {
    const a = await serve(HOSTILE[0]![1]);
    const r = await runCli(['kubeconfig', '--socket', a.socketPath, '--output', join(dir, 'plain'), '--no-verify-server'], { env: { HOME: dir } });
    expect(r.code).toBe(6);
    expect(r.stderr).toMatch(/users\[0\]\.user\.exec \(user "kubernetes-admin"\): makes kubectl run a program on this host/);
    expect(r.stderr).toMatch(/--allow-unsafe-kubeconfig/);
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
  });

  it('a user part in the server is kept apart from the host when rewritten', async () => {
    const a = await serve(ADMIN.replace('https://127.0.0.1:6443', 'https://user:pass@127.0.0.1:6443'));
    const r = await runCli(['kubeconfig', '--socket', a.socketPath, '--api-server', '10.0.0.5', '--output', join(dir, 'userpart'), '--no-verify-server'], { env: { HOME: dir } });
    expect(r.code).toBe(6);
    expect(r.stderr).toMatch(/clusters\[0\]\.cluster\.server \(cluster "kubesolo"\): the server URL has a user part/);
    expect(r.stderr).not.toContain('pass@');
  });

  it('--api-server with an IPv6 zone id is refused with the reason, exit 2', async () => {
    const a = await serve(ADMIN);
    for (const addr of ['fe80::1%eth0', '[fe80::1%eth0]:6443']) {
      const r = await runCli(['kubeconfig', '--socket', a.socketPath, '--api-server', addr, '--output', join(dir, 'zone'), '--no-verify-server'], { env: { HOME: dir } });
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toMatch(/--api-server \(KUBECONFIG_API_ADDRESS\): .*zone id/);
    }
    expect(existsSync(join(dir, 'zone'))).toBe(false);
  });
});

