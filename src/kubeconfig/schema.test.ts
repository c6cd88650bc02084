import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { isQksError, zodIssuesToMessage } from '../errors.js';
import { checkKubeconfig } from './schema.js';
import { parseKubeconfig } from './yaml-library.js';
import { KubeconfigSchema } from './schema-zod.js';

const ADMIN = readFileSync(new URL('../../fixtures/kubeconfig/admin.kubeconfig', import.meta.url), 'utf8');

function invalid(data: string | Uint8Array, max?: number) {
  try {
    parseKubeconfig(data, max);
  } catch (e) {
    if (isQksError(e, 'KUBECONFIG_INVALID')) return e;
    throw e;
  }
  throw new Error('accepted');
}

describe('parseKubeconfig', () => {
  it("accepts Kubesolo's admin kubeconfig", () => {
    const k = parseKubeconfig(Buffer.from(ADMIN)).config;
    expect(k.clusters[0]!.cluster.server).toBe('https://127.0.0.1:6443');
    expect(k.users.map((u) => u.name)).toEqual(['kubernetes-admin', 'admin-token']);
    expect(k['current-context']).toBe('kubernetes-admin@kubesolo');
  });

  it.each([
    ['not YAML', '{{{ [', /not valid YAML/],
    ['a scalar', 'hello', /not a YAML mapping/],
    ['no clusters', 'apiVersion: v1\nusers: [{name: u, user: {}}]\ncontexts: [{name: c, context: {cluster: a, user: u}}]\n', /clusters/],
    ['empty clusters', ADMIN.replace(/clusters:\n- cluster:\n(.*\n){3}/, 'clusters: []\n'), /clusters/],
    ['a server that is a number', ADMIN.replace('server: https://127.0.0.1:6443', 'server: 6443'), /clusters\.0\.cluster\.server/],
    ['a dangling current-context', ADMIN.replace('current-context: kubernetes-admin@kubesolo', 'current-context: nope'), /current-context/],
    ['duplicate keys', ADMIN + 'kind: Config\n', /not valid YAML/],
    ['two documents', ADMIN + '---\n' + ADMIN, /not valid YAML/],
    ['NUL bytes', 'a\0b', /NUL/],
  ])('refuses %s', (_name, text, msg) => {
    const e = invalid(text);
    expect(e.message).toMatch(msg);
    expect(e.retryable).toBe(false);
  });

  it('refuses a huge file before parsing it', () => {
    const e = invalid(Buffer.alloc(2 * 1024 * 1024, 0x61));
    expect(e.message).toMatch(/larger than/);
  });

  it('refuses non-UTF-8 bytes', () => expect(invalid(Buffer.from([0xff, 0xfe, 0x00])).message).toMatch(/UTF-8/));

  it('an empty file may still be being written: retryable', () => expect(invalid('  \n').retryable).toBe(true));

  it('refuses an alias bomb', () => {
    const bomb = 'a: &a ["x","x","x","x","x","x","x","x","x"]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n';
    expect(invalid(bomb).message).toMatch(/cannot be read|not a kubeconfig/);
  });

  it('never quotes the file in its messages', () => {
    const secret = 'c2VjcmV0LWtleS1tYXRlcmlhbA==';
    const e = invalid(`users:\n- name: x\n  user: {client-key-data: ${secret}}\n  extra: [ ${secret}`);
    expect(e.message).not.toContain(secret);
  });
});

describe('checkKubeconfig (plain) against KubeconfigSchema (zod)', () => {
  const base = parseKubeconfig(ADMIN).config;
  const clone = () => JSON.parse(JSON.stringify(base)) as Record<string, any>;
  const cases: [string, unknown][] = [
    ['the admin kubeconfig', clone()],
    ['extra keys everywhere, in another order', { zzz: 1, ...clone(), preferences: {}, clusters: [{ extra: true, cluster: { 'proxy-url': 'x', server: 'https://a' }, name: 'c' }] }],
    ['a user of null', { ...clone(), users: [{ name: 'u', user: null }] }],
    ['nothing', {}],
    ['wrong types at the top', { apiVersion: 1, kind: null, clusters: 'x', users: {}, contexts: 5, 'current-context': false }],
    ['empty lists', { ...clone(), clusters: [], users: [], contexts: [] }],
    ['bad items', { ...clone(), clusters: [null, 'x', { name: '', cluster: { server: '' } }, { cluster: [] }], users: [{ name: 1 }, { name: 'u', user: 'x' }], contexts: [{ name: 'c', context: { cluster: 1 } }] }],
    ['bad cluster fields', { ...clone(), clusters: [{ name: 'c', cluster: { server: 5, 'certificate-authority-data': 1, 'tls-server-name': [], 'insecure-skip-tls-verify': 'yes', 'certificate-authority': null } }] }],
    ['a bad namespace', { ...clone(), contexts: [{ name: 'c', context: { cluster: 'a', user: 'b', namespace: 3 } }] }],
    ['a dangling current-context', { ...clone(), 'current-context': 'nope' }],
    ['a dangling current-context beside another problem', { ...clone(), kind: 1, 'current-context': 'nope' }],
    ['NaN and arrays', { ...clone(), apiVersion: Number.NaN, kind: [] }],
    ['an empty name beside a dangling current-context', { ...clone(), clusters: [{ name: '', cluster: { server: 'https://a' } }], 'current-context': 'nope' }],
    ['an empty server beside a dangling current-context', { ...clone(), clusters: [{ name: 'c', cluster: { server: '' } }], 'current-context': 'nope' }],
  ];
  it.each(cases)('%s', (_name, input) => {
    const z = KubeconfigSchema.safeParse(input);
    const plain = checkKubeconfig(input);
    if (z.success) {
      expect(plain.ok).toBe(true);
      expect(JSON.stringify(plain.ok && plain.config)).toBe(JSON.stringify(z.data));
    } else {
      expect(plain.ok).toBe(false);
      expect(zodIssuesToMessage(plain.ok ? [] : plain.issues)).toBe(zodIssuesToMessage(z.error.issues));
    }
  });
});
