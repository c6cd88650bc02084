import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { isQksError } from '../errors.js';
import { contextNameProblem, entriesOf } from './merge-entries.js';
import { mergeKubeconfig } from './merge.js';
import { parseKubeconfig } from './yaml-library.js';

const ADMIN = readFileSync(new URL('../../fixtures/kubeconfig/admin.kubeconfig', import.meta.url), 'utf8');
const entries = entriesOf(parseKubeconfig(ADMIN.replace('https://127.0.0.1:6443', 'https://10.0.0.50:6443')).config);
const merge = (target: string, name = 'kubesolo', useContext = false) => mergeKubeconfig(target, entries, { name, useContext, file: '/home/u/.kube/config' });

const OTHER = `# my clusters
apiVersion: v1
kind: Config
clusters:
- name: prod
  cluster:
    server: https://prod.example.com:6443 # the LB
    certificate-authority: /etc/prod-ca.pem
contexts:
- name: prod
  context: {cluster: prod, user: prod-admin, namespace: web}
current-context: prod
preferences: {}
users:
- name: prod-admin
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1
      command: aws
`;

describe('entriesOf', () => {
  it("takes Kubesolo's current context: its cluster and the kubernetes-admin user, not admin-token", () => {
    expect(entries.cluster.server).toBe('https://10.0.0.50:6443');
    expect(Object.keys(entries.user)).toEqual(['client-certificate-data', 'client-key-data']);
    expect(entries.context).toEqual({});
  });
});

describe('mergeKubeconfig', () => {
  it('into an empty file: a whole kubeconfig under the name', () => {
    for (const empty of ['', '\n', '# nothing yet\n']) {
      const r = merge(empty);
      const k = parse(r.text);
      expect(k).toMatchObject({ apiVersion: 'v1', kind: 'Config' });
      expect(k.clusters).toEqual([{ name: 'kubesolo', cluster: entries.cluster }]);
      expect(k.users).toEqual([{ name: 'kubesolo', user: entries.user }]);
      expect(k.contexts).toEqual([{ name: 'kubesolo', context: { cluster: 'kubesolo', user: 'kubesolo' } }]);
      expect(k['current-context']).toBeUndefined();
      expect(r.replaced).toEqual({ cluster: false, user: false, context: false });
      // a new file is still parseable by our own reader
      expect(parseKubeconfig(r.text).config.contexts[0]!.name).toBe('kubesolo');
    }
  });

  it('beside other clusters: everything else kept, comments included; the user\'s own exec untouched', () => {
    const r = merge(OTHER, 'vm1');
    const k = parse(r.text);
    expect(k.clusters.map((c: { name: string }) => c.name)).toEqual(['prod', 'vm1']);
    expect(k.users.map((c: { name: string }) => c.name)).toEqual(['prod-admin', 'vm1']);
    expect(k.contexts.map((c: { name: string }) => c.name)).toEqual(['prod', 'vm1']);
    expect(k['current-context']).toBe('prod');
    expect(k.users[0].user.exec.command).toBe('aws');
    expect(r.text).toContain('# my clusters');
    expect(r.text).toContain('# the LB');
    expect(r.currentContext).toEqual({ from: 'prod', to: 'prod' });
  });

  it('replaces entries of the same name in place; --use-context sets current-context', () => {
    const once = merge(OTHER, 'vm1').text;
    const again = mergeKubeconfig(once, { ...entries, cluster: { ...entries.cluster, server: 'https://10.0.0.99:6443' } }, { name: 'vm1', useContext: true, file: 'f' });
    const k = parse(again.text);
    expect(k.clusters).toHaveLength(2);
    expect(k.clusters[1].cluster.server).toBe('https://10.0.0.99:6443');
    expect(k['current-context']).toBe('vm1');
    expect(again.replaced).toEqual({ cluster: true, user: true, context: true });
    expect(again.currentContext).toEqual({ from: 'prod', to: 'vm1' });
  });

  it('a name that another kind of entry uses elsewhere only replaces its own kind', () => {
    const r = merge(OTHER, 'prod-admin');
    const k = parse(r.text);
    expect(k.users.map((u: { name: string }) => u.name)).toEqual(['prod-admin']);
    expect(k.clusters.map((u: { name: string }) => u.name)).toEqual(['prod', 'prod-admin']);
    expect(r.replaced).toEqual({ cluster: false, user: true, context: false });
  });

  it.each([
    ['not YAML', 'clusters: [\n', /not valid YAML at line/],
    ['a list', '- a\n- b\n', /not a YAML mapping/],
    ['another kind', 'apiVersion: v1\nkind: Pod\n', /kind is "Pod"/],
    ['clusters not a list', 'clusters: {a: 1}\n', /clusters is not a list/],
    ['an entry without a name', 'users:\n- user: {}\n', /users\[0\] has no name/],
    ['an unrelated mapping', 'foo: bar\n', /none of clusters/],
    ['a duplicate key', 'kind: Config\nkind: Config\n', /not valid YAML/],
  ])('refuses %s: MERGE_TARGET_INVALID, exit 2', (_what, text, re) => {
    let err: unknown;
    try {
      merge(text);
    } catch (e) {
      err = e;
    }
    expect(isQksError(err, 'MERGE_TARGET_INVALID')).toBe(true);
    expect((err as Error).message).toMatch(re);
    expect((err as { exitCode: number }).exitCode).toBe(2);
  });

  it('accepts a JSON kubeconfig and kubectl\'s null lists', () => {
    const json = JSON.stringify({ apiVersion: 'v1', kind: 'Config', clusters: null, users: null, contexts: null, 'current-context': '' });
    const k = parse(merge(json, 'kubesolo', true).text);
    expect(k.clusters).toHaveLength(1);
    expect(k['current-context']).toBe('kubesolo');
  });
});

describe('contextNameProblem', () => {
  it('takes VM names and refuses empty or multi-line names', () => {
    expect(contextNameProblem('kubesolo')).toBeUndefined();
    expect(contextNameProblem('kubernetes-admin@kubesolo')).toBeUndefined();
    expect(contextNameProblem('')).toMatch(/empty/);
    expect(contextNameProblem('a\nb')).toMatch(/line breaks/);
  });
});
