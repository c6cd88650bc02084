import { describe, expect, it } from 'vitest';
import { networkProblems, networkWarnings, parseAddress, type StaticNetwork } from './network.js';
import { resolveArtifactsConfig } from './config.js';

const net = (n: Partial<StaticNetwork>): StaticNetwork => ({ dns: [], interface: 'eth0', ...n });
const problems = (n: Partial<StaticNetwork>) => networkProblems(net(n)).map((p) => `${p.field}${p.index === undefined ? '' : `[${p.index}]`}: ${p.message}`);

describe('static networks that cannot work (issue 21: accepted silently)', () => {
  it('parses addresses of both families', () => {
    expect(parseAddress('192.168.122.1')).toEqual({ v: 4, n: 0xc0a87a01n });
    expect(parseAddress('fd00::5')).toEqual({ v: 6, n: (0xfd00n << 112n) | 5n });
    expect(parseAddress('::ffff:10.0.0.1')).toEqual({ v: 6, n: (0xffffn << 32n) | 0x0a000001n });
    expect(parseAddress('nope')).toBeUndefined();
  });

  it('accepts the networks that work', () => {
    expect(problems({ ip: '192.168.122.50/24', gateway: '192.168.122.1', dns: ['192.168.122.1', '1.1.1.1'] })).toEqual([]);
    expect(problems({ ip: '10.0.0.1/31', gateway: '10.0.0.0' })).toEqual([]); // RFC 3021: both addresses usable
    expect(problems({ ip: 'fd00::5/64', gateway: 'fd00::1', dns: ['fd00::53'] })).toEqual([]);
    expect(problems({ ip: '2001:db8::5/64', gateway: 'fe80::1' })).toEqual([]); // link-local router
  });

  it.each([
    [{ ip: '192.168.122.50/24', gateway: '192.168.1.1' }, /^gateway: 192\.168\.1\.1 is outside the subnet/],
    [{ ip: '192.168.122.50/24', gateway: '192.168.122.50' }, /^gateway: .*the VM's own address/],
    [{ ip: '192.168.122.0/24' }, /^ip: 192\.168\.122\.0 is the network address .* such as 192\.168\.122\.1\/24/],
    [{ ip: '192.168.122.255/24' }, /^ip: .*the broadcast address .* such as 192\.168\.122\.254\/24/],
    [{ ip: '127.0.0.5/8' }, /^ip: 127\.0\.0\.5 is a loopback address/],
    [{ ip: '224.0.0.5/24' }, /^ip: .*multicast/],
    [{ ip: '::1/128' }, /^ip: ::1 is the loopback address/],
    [{ ip: 'ff02::1/64' }, /^ip: .*multicast/],
    [{ ip: '192.168.122.50/24', gateway: '192.168.122.255' }, /^gateway: .*network or broadcast/],
    [{ ip: '192.168.122.50/24', gateway: '127.0.0.1' }, /^gateway: .*loopback/],
    [{ ip: 'fd00::5/64', gateway: 'fd01::1' }, /^gateway: fd01::1 is outside the subnet/],
    [{ ip: '10.0.0.5/24', dns: ['1.1.1.1', '0.0.0.0'] }, /^dns\[1\]: 0\.0\.0\.0 is an unspecified/],
    [{ ip: '10.0.0.5/24', dns: ['255.255.255.255'] }, /^dns\[0\]: .*broadcast/],
    [{ ip: 'fd00::5/64', dns: ['::'] }, /^dns\[0\]: :: is the unspecified/],
    [{ interface: '..' }, /^interface: "\.\." is not a valid interface name/],
    [{ interface: '.' }, /^interface: /],
  ] as [Partial<StaticNetwork>, RegExp][])('%j is refused', (n, want) => {
    expect(problems(n).join('\n')).toMatch(want);
  });

  it('warns where it may be meant', () => {
    expect(networkWarnings(net({ ip: '10.0.0.5/24', dns: ['127.0.0.53'] }))).toEqual(['--dns 127.0.0.53 is a loopback address: only right if the VM runs its own resolver']);
    expect(networkWarnings(net({ ip: '169.254.10.10/16' }))[0]).toMatch(/link-local/);
    expect(networkWarnings(net({ ip: 'fd00::/64' }))[0]).toMatch(/subnet-router anycast/);
    expect(problems({ ip: '10.0.0.5/24', dns: ['127.0.0.53'] })).toEqual([]);
  });

  it('reaches users as exit 2 naming the flag and variable', async () => {
    const e = await resolveArtifactsConfig({ ip: '192.168.122.50/24', gateway: '10.0.0.1', interface: '..' }, { env: {}, home: '/nonexistent' }).catch((x: unknown) => x);
    expect(e).toMatchObject({ code: 'CONFIG_INVALID', exitCode: 2 });
    expect((e as Error).message).toContain('--gateway (VM_GATEWAY): 10.0.0.1 is outside the subnet of 192.168.122.50/24');
    expect((e as Error).message).toContain('--interface (VM_INTERFACE): ".." is not a valid interface name');
  });
});
