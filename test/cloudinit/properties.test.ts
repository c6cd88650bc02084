// Property tests of data safety: any string in any field either fails validation with an error naming
// that field, or comes back unchanged from the rendered YAML, with exactly the keys and items of a
// baseline render (no value adds a key, an item, a line or a command).
import { execFileSync } from 'node:child_process';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { verify } from 'unixcrypt';
import { isQksError } from '../../src/errors.js';
import { resolveArtifactsConfig, type ArtifactsFlags } from '../../src/cloudinit/config.js';
import { renderDocuments } from '../../src/cloudinit/artifacts.js';
import { networkProblems } from '../../src/cloudinit/network.js';
import { sha512Crypt } from '../../src/cloudinit/password.js';
import { ED25519_KEY } from './keys.js';
import { describeWithPeers } from '../helpers/peers.js';

const HASH = sha512Crypt('secret', 'fixedsaltfixedsa');
const BASE: ArtifactsFlags = {
  hostname: 'node1',
  username: 'alpine',
  passwordHash: HASH,
  sshKeys: ED25519_KEY,
  kubesoloVersion: 'v1.1.0',
  arch: 'amd64',
  autoInstallKubesolo: true,
  ip: '192.168.122.50/24',
  gateway: '192.168.122.1',
  dns: ['192.168.122.1'],
  apiAddresses: ['203.0.113.10'],
  interface: 'eth0',
  instanceId: 'iid-test',
};
const OPTS = { env: {}, home: '/nonexistent', hostArch: 'x64' };
const read = (s: string) => parse(s, { version: '1.1' }) as Record<string, unknown>;

/** Every key path and list index of a document, e.g. users.0.name. */
function shape(v: unknown, prefix = ''): string[] {
  if (Array.isArray(v)) return v.flatMap((x, i) => [`${prefix}${i}`, ...shape(x, `${prefix}${i}.`)]);
  if (v && typeof v === 'object') return Object.entries(v).flatMap(([k, x]) => [`${prefix}${k}`, ...shape(x, `${prefix}${k}.`)]);
  return [];
}

async function renderWith(flags: ArtifactsFlags) {
  const config = await resolveArtifactsConfig(flags, OPTS);
  const docs = renderDocuments(config);
  return Object.fromEntries(docs.docs.map((d) => [d.name, read(d.data)])) as Record<'user-data' | 'meta-data' | 'network-config', Record<string, unknown>>;
}

/** Strings that try hard: YAML indicators, comments, quotes, newlines, control and line-separator characters. */
const nasty = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: fc.constantFrom(...'aZ09-_.:/@# \'"{}[]&*!|>%`$\\\n\r\t\u0000\u0085\u2028,?=~'.split('')), maxLength: 30 }),
  fc.constantFrom('yes', 'no', 'on', 'off', 'y', 'n', 'null', '~', '0755', '1:20', '1_000', '0x1f', '.inf', '2001-12-14', '=', '<<', '- x', 'a: b', '"', "'", '{{ hostname }}', '#cloud-config'),
);

const base = await renderWith(BASE);
const baseShape = Object.fromEntries(Object.entries(base).map(([k, v]) => [k, shape(v)]));

type Case = { field: keyof ArtifactsFlags; flag: string; arb: fc.Arbitrary<string>; check: (docs: Awaited<ReturnType<typeof renderWith>>, v: string) => void };
const CASES: Case[] = [
  { field: 'hostname', flag: '--hostname', arb: fc.oneof(nasty, fc.stringMatching(/^[a-z0-9][a-z0-9-]{0,70}$/)), check: (d, v) => {
    expect(d['user-data'].hostname).toBe(v);
    expect(d['meta-data']['local-hostname']).toBe(v);
  } },
  { field: 'username', flag: '--username', arb: fc.oneof(nasty, fc.stringMatching(/^[a-z_][a-z0-9_-]{0,34}$/)), check: (d, v) => {
    expect((d['user-data'].users as { name: string }[])[0]!.name).toBe(v);
  } },
  { field: 'kubesoloVersion', flag: '--kubesolo-version', arb: fc.oneof(nasty, fc.stringMatching(/^v\d{1,5}\.\d\.\d$/)), check: (d, v) => {
    expect(JSON.stringify(d['user-data'].write_files)).toContain(`/download/${v}/kubesolo-${v}-linux-amd64-musl.tar.gz`);
  } },
  { field: 'instanceId', flag: '--instance-id', arb: fc.oneof(nasty, fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._-]{0,130}$/)), check: (d, v) => {
    expect(d['meta-data']['instance-id']).toBe(v);
  } },
  { field: 'interface', flag: '--interface', arb: fc.oneof(nasty, fc.stringMatching(/^[A-Za-z0-9_.-]{1,17}$/)), check: (d, v) => {
    expect(Object.keys(d['network-config'].ethernets as object)).toEqual([v]);
  } },
  { field: 'ip', flag: '--ip', arb: fc.oneof(nasty, fc.ipV4().map((a) => `${a}/24`), fc.ipV6().map((a) => `${a}/64`)), check: (d, v) => {
    expect(JSON.stringify(d['network-config'])).toContain(JSON.stringify(v));
  } },
  { field: 'gateway', flag: '--gateway', arb: fc.oneof(nasty, fc.ipV4()), check: (d, v) => {
    expect(((d['network-config'].ethernets as Record<string, { routes: { via: string }[] }>).eth0!.routes[0]!.via)).toBe(v);
  } },
];

describe('data safety of every field (property)', () => {
  for (const c of CASES) {
    it(`${c.flag}: a field-named error, or the value unchanged and no new keys`, async () => {
      await fc.assert(
        fc.asyncProperty(c.arb, async (v) => {
          let docs: Awaited<ReturnType<typeof renderWith>>;
          try {
            docs = await renderWith({ ...BASE, [c.field]: v });
          } catch (e) {
            if (!isQksError(e, 'CONFIG_INVALID')) throw e;
            // a random --ip rarely holds the base's gateway: the network check (network.ts) names --gateway then
            if (c.field === 'ip') expect(e.message).toMatch(/--ip|--gateway/);
            else expect(e.message).toContain(c.flag);
            return;
          }
          c.check(docs, v);
          // the interface name is itself a key: compare the rest of the shape
          const norm = (p: string) => (c.field === 'interface' ? p.replace(`ethernets.${v}`, 'ethernets.eth0') : p);
          for (const [name, doc] of Object.entries(docs)) expect(shape(doc).map(norm), name).toEqual(baseShape[name]);
        }),
        { numRuns: 150 },
      );
    });
  }

  it('--dns and --api-address (lists): each item named by index, or carried unchanged', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.oneof(nasty, fc.ipV4(), fc.domain()), { minLength: 1, maxLength: 3 }), async (list) => {
        for (const [field, flag] of [['dns', '--dns'], ['apiAddresses', '--api-address']] as const) {
          try {
            const d = await renderWith({ ...BASE, [field]: list });
            const text = JSON.stringify(d['user-data']) + JSON.stringify(d['network-config']);
            for (const item of list.flatMap((s) => s.split(/[\s,]+/).filter(Boolean))) expect(text).toContain(item);
            // resolv_conf is there exactly when DNS servers are (an empty list drops it): no other key moves
            const keys = (doc: object) => Object.keys(doc).filter((k) => k !== 'manage_resolv_conf' && k !== 'resolv_conf');
            expect(keys(d['user-data'])).toEqual(keys(base['user-data']));
          } catch (e) {
            if (!isQksError(e, 'CONFIG_INVALID')) throw e;
            expect(e.message).toContain(flag);
          }
        }
      }),
      { numRuns: 100 },
    );
  });

  it('--password: any text without control characters is hashed and verifies; never in the output', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(nasty, fc.string({ minLength: 1, maxLength: 60 })), async (pw) => {
        const flags = { ...BASE, passwordHash: undefined, password: pw };
        try {
          const config = await resolveArtifactsConfig(flags, OPTS);
          const docs = renderDocuments(config);
          const ud = read(docs.docs[0]!.data);
          const hash = (ud.users as { hashed_passwd: string }[])[0]!.hashed_passwd;
          expect(verify(pw, hash)).toBe(true);
          // (unless the text is part of every user-data anyway, like "#cloud-config")
          const everywhere = renderDocuments({ ...config, password: 'other' }).docs.some((d) => d.data.includes(pw));
          if (pw.length >= 4 && !everywhere) for (const d of docs.docs) expect(d.data).not.toContain(pw);
          expect(shape(ud)).toEqual(baseShape['user-data']);
        } catch (e) {
          if (!isQksError(e, 'CONFIG_INVALID')) throw e;
          expect(e.message).toContain('--password');
        }
      }),
      { numRuns: 25 },
    );
  });

  it('--ssh-key comments: carried verbatim inside the one key item, or refused', async () => {
    await fc.assert(
      fc.asyncProperty(nasty, async (comment) => {
        const key = `${ED25519_KEY.split(' ').slice(0, 2).join(' ')} ${comment}`;
        try {
          const d = await renderWith({ ...BASE, sshKeys: key });
          const keys = (d['user-data'].users as { ssh_authorized_keys: string[] }[])[0]!.ssh_authorized_keys;
          expect(keys).toEqual([key.trim().split(/[ \t]+/).join(' ')]);
        } catch (e) {
          if (!isQksError(e, 'CONFIG_INVALID')) throw e;
          expect(e.message).toContain('--ssh-key');
        }
      }),
      { numRuns: 150 },
    );
  });
});

describeWithPeers('the rendered YAML reads the same in PyYAML (what cloud-init uses)', ['python3'], () => {
  it('for tricky values in every text field', async () => {
    const samples = fc.sample(fc.oneof(nasty, fc.stringMatching(/^[a-z0-9][a-z0-9-]{0,20}$/)), { numRuns: 150, seed: 42 });
    const docs: string[] = [];
    const expected: unknown[] = [];
    for (const v of [...samples, 'yes', 'no', 'on', 'y', 'n', 'null', '0755', '1_000', '123', '1e3']) {
      for (const field of ['hostname', 'username', 'instanceId'] as const) {
        try {
          const config = await resolveArtifactsConfig({ ...BASE, [field]: v }, OPTS);
          for (const d of renderDocuments(config).docs) {
            docs.push(d.data);
            expected.push(read(d.data));
          }
        } catch (e) {
          if (!isQksError(e, 'CONFIG_INVALID')) throw e;
        }
      }
    }
    expect(docs.length).toBeGreaterThan(30);
    const py = 'import json,sys,yaml\nprint(json.dumps([yaml.safe_load(d) for d in json.load(sys.stdin)]))';
    const got = JSON.parse(execFileSync('python3', ['-c', py], { input: JSON.stringify(docs), encoding: 'utf8', maxBuffer: 64 << 20 }));
    expect(got).toEqual(expected);
  });
});

describe('static network checks (property)', () => {
  const v4 = (n: number) => [24, 16, 8, 0].map((s) => (n >>> s) & 255).join('.');
  // a unicast /8../30 subnet outside loopback, multicast and 0/8
  const subnet = fc
    .record({ base: fc.integer({ min: 0x01000000, max: 0xdfffffff }), prefix: fc.integer({ min: 8, max: 30 }) })
    .filter(({ base }) => base >>> 24 !== 127)
    .map(({ base, prefix }) => {
      const size = 2 ** (32 - prefix);
      return { net: base - (base % size), size, prefix };
    });

  it('any host address with a different host of its subnet as gateway is accepted; the network and broadcast addresses never are', () => {
    fc.assert(
      fc.property(subnet, fc.nat(), fc.nat(), ({ net, size, prefix }, a, b) => {
        const ip = net + 1 + (a % (size - 2));
        const gw = net + 1 + (b % (size - 2));
        fc.pre(ip !== gw);
        expect(networkProblems({ ip: `${v4(ip)}/${prefix}`, gateway: v4(gw), dns: [v4(gw)], interface: 'eth0' })).toEqual([]);
        for (const bad of [net, net + size - 1]) {
          expect(networkProblems({ ip: `${v4(bad)}/${prefix}`, dns: [], interface: 'eth0' }).map((p) => p.field)).toEqual(['ip']);
          expect(networkProblems({ ip: `${v4(ip)}/${prefix}`, gateway: v4(bad), dns: [], interface: 'eth0' }).map((p) => p.field)).toEqual(['gateway']);
        }
        // a gateway one subnet over is outside
        const outside = (net + size) % 2 ** 32;
        if (outside >>> 24 !== 127 && outside >>> 28 < 14 && outside >>> 24 !== 0) {
          expect(networkProblems({ ip: `${v4(ip)}/${prefix}`, gateway: v4(outside + 1), dns: [], interface: 'eth0' })[0]?.message).toMatch(/outside the subnet/);
        }
      }),
      { numRuns: 300 },
    );
  });
});
