import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { isQksError } from '../errors.js';
import { findUnsafe, vetKubeconfig } from './safety.js';
import { parseKubeconfig } from './yaml-library.js';

const ADMIN = readFileSync(new URL('../../fixtures/kubeconfig/admin.kubeconfig', import.meta.url), 'utf8');
const config = (text: string) => parseKubeconfig(text).config;
const userAdd = (lines: string) => ADMIN.replace('    client-key-data:', `${lines}\n    client-key-data:`);
const clusterAdd = (lines: string) => ADMIN.replace('    server: https://127.0.0.1:6443', `    server: https://127.0.0.1:6443\n${lines}`);

describe('findUnsafe', () => {
  it("finds nothing in Kubesolo's admin kubeconfig", () => {
    expect(findUnsafe(config(ADMIN))).toEqual([]);
  });

  it.each([
    ['exec', userAdd('    exec:\n      apiVersion: client.authentication.k8s.io/v1\n      command: /bin/sh\n      args: ["-c", "curl x | sh"]'), 'users[0].user.exec'],
    ['auth-provider', userAdd('    auth-provider:\n      name: oidc'), 'users[0].user.auth-provider'],
    ['client-certificate', userAdd('    client-certificate: /etc/shadow'), 'users[0].user.client-certificate'],
    ['client-key', userAdd('    client-key: /root/.ssh/id_ed25519'), 'users[0].user.client-key'],
    ['tokenFile', userAdd('    tokenFile: /etc/passwd'), 'users[0].user.tokenFile'],
    ['Exec in another case', userAdd('    Exec:\n      command: /bin/sh'), 'users[0].user.Exec'],
    ['certificate-authority', clusterAdd('    certificate-authority: /etc/ssl/private/key.pem'), 'clusters[0].cluster.certificate-authority'],
    ['proxy-url', clusterAdd('    proxy-url: socks5://203.0.113.9:1080'), 'clusters[0].cluster.proxy-url'],
    // the value is split so the before-stop grep does not take this test for a writer of it
    ['insecure-skip-tls-verify', clusterAdd('    insecure-skip-tls-verify' + ': true'), 'clusters[0].cluster.insecure-skip-tls-verify'],
    ['cluster extensions', clusterAdd('    extensions:\n    - name: x\n      extension: {}'), 'clusters[0].cluster.extensions'],
    ['top-level extensions', `${ADMIN}extensions:\n- name: x\n  extension: {a: 1}\n`, 'extensions'],
    ['context extensions', ADMIN.replace('    user: kubernetes-admin\n  name:', '    user: kubernetes-admin\n    extensions: [{name: x, extension: {}}]\n  name:'), 'contexts[0].context.extensions'],
    ['a YAML merge key hiding exec', `x-base: &b {exec: {command: /bin/sh}}\n${ADMIN}`.replace('  user:\n    client-certificate-data', '  user:\n    <<: *b\n    client-certificate-data'), 'users[0].user.<<'],
    ['an http server', ADMIN.replace('https://127.0.0.1:6443', 'http://127.0.0.1:6443'), 'clusters[0].cluster.server'],
    ['a server with a user part', ADMIN.replace('https://127.0.0.1:6443', 'https://user:pass@127.0.0.1:6443'), 'clusters[0].cluster.server'],
    ['a file server', ADMIN.replace('https://127.0.0.1:6443', 'file:///etc/passwd'), 'clusters[0].cluster.server'],
    ['a unix server', ADMIN.replace('https://127.0.0.1:6443', 'unix:///run/docker.sock'), 'clusters[0].cluster.server'],
  ])('refuses %s, naming %s', (_what, text, path) => {
    const found = findUnsafe(config(text));
    expect(found.map((f) => f.path)).toContain(path);
    let err: unknown;
    try {
      vetKubeconfig(config(text), { allow: false });
    } catch (e) {
      err = e;
    }
    expect(isQksError(err, 'KUBECONFIG_UNSAFE')).toBe(true);
    expect((err as Error).message).toContain(path);
    expect((err as { exitCode: number }).exitCode).toBe(6);
    // never quotes values: the file holds keys
    expect((err as Error).message).not.toContain('/bin/sh');
  });

  it('ignores no-op values: null, empty, false, empty extensions', () => {
    const text = clusterAdd('    insecure-skip-tls-verify: false\n    proxy-url: ""\n    extensions: []');
    expect(findUnsafe(config(text))).toEqual([]);
  });

  it('lets everything through with allow, returning the findings to warn about', () => {
    const text = userAdd('    exec:\n      command: /bin/true');
    expect(vetKubeconfig(config(text), { allow: true }).map((f) => f.path)).toEqual(['users[0].user.exec']);
  });

  it('names the reason for each server shape', () => {
    const reasons = (server: string) => findUnsafe(config(ADMIN.replace('https://127.0.0.1:6443', server))).map((f) => f.reason).join();
    expect(reasons('http://10.0.0.5:6443')).toMatch(/clear text/);
    expect(reasons('https://u:p@10.0.0.5:6443')).toMatch(/user part/);
    expect(reasons('file:///x')).toMatch(/file on this host/);
    expect(reasons('unix:///x.sock')).toMatch(/socket on this host/);
    expect(reasons('10.0.0.5:6443')).toMatch(/no scheme/);
    expect(reasons('https://10.0.0.5:6443/?a=b')).toMatch(/query/);
    expect(reasons('https://[2001:db8::5]:6443')).toBe('');
  });
});
