import { readFileSync } from 'node:fs';
import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseDocument } from 'yaml';
import { isIPv4 } from 'node:net';
import { isIpv4Address, isLoopbackHost, parseApiAddress, readApiAddress, rewriteServerUrl, sameJson, serverEdits, serverUrlProblem, splitUrl } from './rewrite.js';
import { applyClusterEdits, parseKubeconfig, rewriteKubeconfigServer } from './yaml-library.js';

const ADMIN = readFileSync(new URL('../../fixtures/kubeconfig/admin.kubeconfig', import.meta.url), 'utf8');

describe('parseApiAddress', () => {
  it.each([
    ['10.0.0.50', { host: '10.0.0.50' }],
    ['10.0.0.50:7443', { host: '10.0.0.50', port: 7443 }],
    ['k8s.example.com', { host: 'k8s.example.com' }],
    ['K8S.example.com.:443', { host: 'K8S.example.com.', port: 443 }],
    ['2001:db8::5', { host: '2001:db8::5' }],
    ['[2001:db8::5]', { host: '2001:db8::5' }],
    ['[2001:db8::5]:7443', { host: '2001:db8::5', port: 7443 }],
    ['https://10.0.0.50:6443', { host: '10.0.0.50', port: 6443 }],
    ['https://lb.example.com/', { host: 'lb.example.com' }],
  ])('%s', (raw, want) => expect(parseApiAddress(raw)).toEqual(want));

  it.each(['', 'http://10.0.0.50', '10.0.0.50:0', '10.0.0.50:70000', '10.0.0', '[10.0.0.1]', 'a b', 'x;rm -rf /', 'user@host', 'host/path', '-oProxyCommand=x', '$(id)', '[::1', 'exa_mple.com'])(
    'refuses %j',
    (raw) => expect(parseApiAddress(raw)).toBeUndefined(),
  );
  // regression: `fe80::1%eth0` became https://[fe80::1%eth0]:6443, which kubectl rejects
  it.each(['fe80::1%eth0', '[fe80::1%eth0]:6443', 'https://[fe80::1%25eth0]:6443', 'fe80::1%25eth0'])('refuses the zone id in %j, saying why', (raw) => {
    expect(parseApiAddress(raw)).toBeUndefined();
    expect(readApiAddress(raw)).toEqual({ problem: expect.stringMatching(/zone id/) });
  });
  it('says why for other refusals', () => {
    expect(readApiAddress('http://10.0.0.5')).toEqual({ problem: expect.stringMatching(/TLS/) });
    expect(readApiAddress('user@10.0.0.5')).toEqual({ problem: expect.stringMatching(/user part/) });
    expect(readApiAddress('10.0.0.5:0')).toEqual({ problem: expect.stringMatching(/port/) });
  });
});

describe('rewriteServerUrl', () => {
  it('keeps scheme, port and path; brackets IPv6', () => {
    expect(rewriteServerUrl('https://127.0.0.1:6443', { host: '10.0.0.50' })).toBe('https://10.0.0.50:6443');
    expect(rewriteServerUrl('https://192.168.122.50:6443/k8s', { host: 'k8s.example.com' })).toBe('https://k8s.example.com:6443/k8s');
    expect(rewriteServerUrl('https://127.0.0.1:6443', { host: '2001:db8::5' })).toBe('https://[2001:db8::5]:6443');
    expect(rewriteServerUrl('https://[::1]:6443', { host: '10.0.0.5' })).toBe('https://10.0.0.5:6443');
    expect(rewriteServerUrl('https://localhost', { host: '10.0.0.5' })).toBe('https://10.0.0.5');
    expect(rewriteServerUrl('https://127.0.0.1:6443', { host: '10.0.0.5', port: 443 })).toBe('https://10.0.0.5:443');
    expect(rewriteServerUrl('https://127.0.0.1:443', { host: '10.0.0.5' })).toBe('https://10.0.0.5:443');
  });
  // regression: the user part was taken for the host: `127.0.0.1//user:pass@127.0.0.1:6443`
  it('parses the server as a URL: a user part stays a user part, only host and port change', () => {
    expect(rewriteServerUrl('https://user:pass@127.0.0.1:6443', { host: '10.0.0.5', port: 7443 })).toBe('https://user:pass@10.0.0.5:7443');
    expect(rewriteServerUrl('http://127.0.0.1:6443/x', { host: '2001:db8::5' })).toBe('http://[2001:db8::5]:6443/x');
  });
  it.each(['127.0.0.1:6443', 'file:///etc/passwd', 'unix:///run/k.sock', 'https://', 'not a url'])('cannot rewrite %j (no host to replace)', (server) => {
    expect(() => rewriteServerUrl(server, { host: '10.0.0.5' })).toThrow(/not a URL/);
  });
  it.each([
    ['https://127.0.0.1:6443', undefined],
    ['https://[::1]:6443/', undefined],
    ['https://k8s.example.com', undefined],
    ['http://127.0.0.1:6443', /clear text/],
    ['https://user:pass@127.0.0.1:6443', /user part/],
    ['https://user@127.0.0.1:6443', /user part/],
    ['file:///etc/passwd', /file/],
    ['unix:///run/k.sock', /socket/],
    ['ftp://h', /scheme ftp/],
    ['127.0.0.1:6443', /no scheme/],
    ['https://h:6443/#frag', /fragment/],
  ])('serverUrlProblem(%j)', (server, want) => {
    if (want === undefined) expect(serverUrlProblem(server)).toBeUndefined();
    else expect(serverUrlProblem(server)).toMatch(want);
  });
  it('knows loopback hosts', () => {
    for (const h of ['127.0.0.1', '127.1.2.3', '::1', 'localhost', 'LOCALHOST.']) expect(isLoopbackHost(h)).toBe(true);
    for (const h of ['10.0.0.1', 'kubernetes', '2001:db8::1']) expect(isLoopbackHost(h)).toBe(false);
  });
});

describe('applyClusterEdits', () => {
  it('changes only the server bytes of the Kubesolo kubeconfig', () => {
    const out = rewriteKubeconfigServer(ADMIN, { host: '10.0.0.50' });
    expect(out).toBe(ADMIN.replace('server: https://127.0.0.1:6443', 'server: https://10.0.0.50:6443'));
  });

  it('adds tls-server-name under server, indented like it', () => {
    const parsed = parseKubeconfig(ADMIN);
    const out = applyClusterEdits(parsed, [...serverEdits(parsed, { host: '127.0.0.2' }).edits, { index: 0, key: 'tls-server-name', value: 'kubernetes' }]);
    expect(out).toBe(ADMIN.replace('server: https://127.0.0.1:6443\n', 'server: https://127.0.0.2:6443\n    tls-server-name: kubernetes\n'));
  });

  it('replaces an existing tls-server-name, keeping comments and quoting', () => {
    const text = ADMIN.replace('    server: https://127.0.0.1:6443\n', '    server: "https://127.0.0.1:6443" # from kubesolo\n    tls-server-name: \'old\'\n');
    const parsed = parseKubeconfig(text);
    const out = applyClusterEdits(parsed, [
      { index: 0, key: 'server', value: 'https://[2001:db8::5]:6443' },
      { index: 0, key: 'tls-server-name', value: 'kubernetes' },
    ]);
    expect(out).toContain('server: "https://[2001:db8::5]:6443" # from kubesolo\n');
    expect(out).toContain("tls-server-name: \"kubernetes\"\n");
    expect(parseDocument(out).toJS().clusters[0].cluster['tls-server-name']).toBe('kubernetes');
  });

  it('rewrites JSON kubeconfigs and flow mappings (re-serialised, values proven)', () => {
    const json = JSON.stringify(parseDocument(ADMIN).toJS());
    const out = rewriteKubeconfigServer(json, { host: 'k8s.example.com' });
    expect(parseDocument(out).toJS().clusters[0].cluster.server).toBe('https://k8s.example.com:6443');
    const parsed = parseKubeconfig(json);
    const withName = applyClusterEdits(parsed, [{ index: 0, key: 'tls-server-name', value: 'kubernetes' }]);
    expect(parseDocument(withName).toJS().clusters[0].cluster['tls-server-name']).toBe('kubernetes');
  });

  it('rewrites every cluster', () => {
    const text = `apiVersion: v1
clusters:
- name: a
  cluster: {server: "https://127.0.0.1:6443"}
- name: b
  cluster:
    server: https://localhost:7443/x
contexts: [{name: c, context: {cluster: a, user: u}}]
users: [{name: u, user: {}}]
`;
    const out = parseDocument(rewriteKubeconfigServer(text, { host: '2001:db8::1' })).toJS();
    expect(out.clusters.map((c: { cluster: { server: string } }) => c.cluster.server)).toEqual(['https://[2001:db8::1]:6443', 'https://[2001:db8::1]:7443/x']);
  });

  it('property: any valid address changes exactly the server values and nothing else', () => {
    const host = fc.oneof(
      fc.ipV4(),
      fc.ipV6(),
      fc.domain().filter((d) => parseApiAddress(d) !== undefined),
    );
    const original = parseDocument(ADMIN).toJS();
    fc.assert(
      fc.property(host, fc.option(fc.integer({ min: 1, max: 65535 }), { nil: undefined }), (h, port) => {
        const address = port === undefined ? { host: h } : { host: h, port };
        const out = parseDocument(rewriteKubeconfigServer(ADMIN, address)).toJS();
        const want = structuredClone(original);
        want.clusters[0].cluster.server = rewriteServerUrl(original.clusters[0].cluster.server, address);
        expect(out).toEqual(want);
        expect(new URL(out.clusters[0].cluster.server).port).toBe(String(port ?? 6443));
      }),
      { numRuns: 200 },
    );
  });
});

describe('the patterns written as scans (a start\'s first regular expressions cost it ~0.5 ms)', () => {
  const digits = fc.string({ unit: fc.constantFrom('0', '1', '2', '5', '9', '.', 'a', ' ', '-', '+', '٣', '\n'), maxLength: 16 });
  const quads = fc.array(fc.oneof(fc.nat({ max: 300 }).map(String), fc.constantFrom('00', '01', '010', '255', '256', '', '1e1', '0x1')), { minLength: 1, maxLength: 5 }).map((p) => p.join('.'));

  it('isIpv4Address is net.isIPv4', () => {
    fc.assert(fc.property(fc.oneof(digits, quads, fc.string()), (s) => {
      expect(isIpv4Address(s), s).toBe(isIPv4(s));
    }), { numRuns: 5000 });
    for (const s of ['0.0.0.0', '255.255.255.255', '127.0.0.1', '10.0.0.50', '1.2.3', '1.2.3.4.5', '01.2.3.4', '256.1.1.1', ' 1.2.3.4', '1.2.3.4\n']) expect(isIpv4Address(s), s).toBe(isIPv4(s));
  });

  it('splitUrl is /^([a-z][a-z0-9+.-]*:\\/\\/)([^/?#]*)(.*)$/is', () => {
    const url = fc.string({ unit: fc.constantFrom('h', 'T', 's', '1', '+', '.', '-', ':', '/', '?', '#', '@', '[', ']', '\n', ' ', 'é', '://'), maxLength: 20 });
    const pattern = (s: string) => {
      const m = /^([a-z][a-z0-9+.-]*:\/\/)([^/?#]*)(.*)$/is.exec(s);
      return m ? { scheme: m[1], authority: m[2], rest: m[3] } : undefined;
    };
    fc.assert(fc.property(fc.oneof(url, url.map((u) => `https://${u}`), fc.string()), (s) => {
      expect(splitUrl(s), s).toEqual(pattern(s));
    }), { numRuns: 5000 });
  });
});

describe('sameJson', () => {
  it('agrees with isDeepStrictEqual on JSON values and their near copies', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.jsonValue(), fc.boolean(), (a, b, copy) => {
        const other = copy ? JSON.parse(JSON.stringify(a)) : b;
        expect(sameJson(a, other)).toBe(isDeepStrictEqual(a, other));
      }),
      { numRuns: 500 },
    );
  });

  it('calls what is not JSON-like unequal (the re-serialisation then decides)', () => {
    expect(sameJson(new Date(0), new Date(0))).toBe(false);
    expect(sameJson(new Uint8Array(1), new Uint8Array(1))).toBe(false);
    expect(sameJson({ a: [1, { b: 'c' }] }, { a: [1, { b: 'c' }] })).toBe(true);
    expect(sameJson({ a: 1 }, { a: 1, b: undefined })).toBe(false);
    expect([sameJson(-0, 0), sameJson(NaN, NaN)]).toEqual([isDeepStrictEqual(-0, 0), isDeepStrictEqual(NaN, NaN)]);
  });
});
