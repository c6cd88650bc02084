import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { endpointFor, readyNode, summarise } from './ready.js';
import { parseKubeconfig } from './yaml-library.js';

const ADMIN = readFileSync(new URL('../../fixtures/kubeconfig/admin.kubeconfig', import.meta.url), 'utf8');

describe('endpointFor', () => {
  it("takes the current context's cluster and user", () => {
    const ep = endpointFor(parseKubeconfig(ADMIN.replace('https://127.0.0.1:6443', 'https://[2001:db8::5]:7443')).config);
    expect(ep).toMatchObject({ host: '2001:db8::5', port: 7443, user: 'kubernetes-admin' });
    expect(ep.servername).toBeUndefined();
    expect(ep.cert).toBeDefined();
    expect(ep.key).toBeDefined();
  });
  it('checks the certificate as tls-server-name when set, else as a DNS host', () => {
    const named = ADMIN.replace('    server: https://127.0.0.1:6443', '    server: https://10.0.0.5\n    tls-server-name: kubernetes');
    expect(endpointFor(parseKubeconfig(named).config)).toMatchObject({ host: '10.0.0.5', port: 443, servername: 'kubernetes' });
    expect(endpointFor(parseKubeconfig(ADMIN.replace('127.0.0.1', 'k8s.example.com')).config).servername).toBe('k8s.example.com');
  });
  it('refuses a context naming a missing user', () => {
    expect(() => endpointFor(parseKubeconfig(ADMIN.replace('    user: kubernetes-admin', '    user: nobody')).config)).toThrow(/names user "nobody"/);
  });
});

describe('readyNode', () => {
  const list = (...conds: [string, string][]) =>
    JSON.stringify({ items: conds.map(([name, status]) => ({ metadata: { name }, status: { conditions: [{ type: 'MemoryPressure', status: 'False' }, { type: 'Ready', status, reason: 'R' }] } })) });
  it('finds the Ready node', () => expect(readyNode(list(['a', 'False'], ['b', 'True']))).toEqual({ ready: 'b' }));
  it('says what it sees otherwise', () => {
    expect(readyNode(list(['a', 'False']))).toEqual({ waiting: 'a Ready=False (R)' });
    expect(readyNode('{"items":[]}')).toEqual({ waiting: 'no node has registered yet' });
    expect(readyNode('<html>')).toEqual({ waiting: 'the node list is not JSON' });
  });
});

describe('summarise', () => {
  it('lists failing readyz checks, printable and short', () => {
    expect(summarise('[+]ping ok\n[-]etcd failed: reason withheld\n[-]informer-sync failed\nreadyz check failed')).toBe('failing: etcd, informer-sync');
    expect(summarise('\u001b[31mred\u0000')).toBe('?[31mred?');
    expect(summarise('x'.repeat(500)).length).toBe(163);
  });
});
