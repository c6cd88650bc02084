/**
 * Every user-data our tool writes passes `cloud-init schema` of the guest's cloud-init (25.1.4, run in
 * the cached Debian 13 root by chroot) and of the host's (Debian 12: 22.4.2); every network-config
 * converts with `cloud-init devel net-convert -D alpine -O eni` (the renderer Alpine uses) into a file
 * naming the right address and gateway. No VM boots here; a route `to: default` must fail.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeWithPeers, which } from '../helpers/peers.js';
import { ensureRootfs, netConvertAlpineEni, schemaCheck, VM_TIER_COMMANDS, vmTierMissing } from './cloud-init/rootfs.js';
import { removeSeeds, seedFromTool, TEST_SSH_KEY, type Seed } from './cloud-init/seeds.js';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const base = ['--ssh-key', TEST_SSH_KEY, '--hostname', 'qks-schema', '--username', 'qksuser'];
const staticNet = ['--ip', '10.20.30.40/24', '--gateway', '10.20.30.1', '--dns', '10.20.30.53', '--dns', '9.9.9.9'];

/** The variants the tool can write; each must be valid for both cloud-init versions. */
const VARIANTS: Record<string, string[]> = {
  default: base,
  'auto-install': [...base, '--auto-install-kubesolo', '--kubesolo-version', 'v1.1.0'],
  'static network': [...base, ...staticNet],
  'auto-install + static network + api addresses': [...base, '--auto-install-kubesolo', ...staticNet, '--api-address', '203.0.113.10', '--api-address', 'k8s.example.com'],
  'other interface, no gateway': [...base, '--ip', '172.16.5.9/16', '--interface', 'eth1'],
  'air-gapped (kubesolo-url, apk repositories) + static network': [
    ...base, '--auto-install-kubesolo', ...staticNet, '--kubesolo-url', 'file:///opt/kubesolo/kubesolo-v1.1.7-linux-amd64-musl.tar.gz',
    '--apk-repository', 'http://10.20.30.1/alpine/v3.22/main', '--apk-repository', 'http://10.20.30.1/alpine/v3.22/community',
  ],
};

function hostSchema(userData: string): Promise<{ code: number; out: string }> {
  return (async () => {
    const dir = await mkdtemp(join(tmpdir(), 'qks-schema-'));
    try {
      await writeFile(join(dir, 'user-data'), userData);
      return await new Promise((resolve) => {
        execFile('cloud-init', ['schema', '--config-file', join(dir, 'user-data')], { timeout: 60_000 }, (err, stdout, stderr) =>
          resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, out: stdout + stderr }),
        );
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  })();
}

describeWithPeers(
  "our user-data and network-config against the guest's cloud-init 25.1.4 (chroot) and the host's",
  [...VM_TIER_COMMANDS, 'cloud-init'],
  () => {
    let root: string;
    const seeds = new Map<string, Seed>();

    beforeAll(async () => {
      ({ root } = await ensureRootfs('trixie'));
      for (const [name, args] of Object.entries(VARIANTS)) seeds.set(name, await seedFromTool(args, { VM_PASSWORD: 'pw for schema' }));
    });
    afterAll(removeSeeds);

    describe.each(Object.keys(VARIANTS))('%s', (name) => {
      it('user-data passes cloud-init 25.1.4 schema (Debian 13 root)', async () => {
        const r = await schemaCheck(root, seeds.get(name)!.userData);
        expect(r.stdout + r.stderr).toContain('Valid schema');
        expect(r.code).toBe(0);
      });

      it.runIf(!!which('cloud-init'))("user-data passes the host's cloud-init schema (Debian 12: 22.4.2)", async () => {
        const r = await hostSchema(seeds.get(name)!.userData);
        expect(r.out).toMatch(/^Valid cloud-config: /m); // 22.4's wording (25.x: "Valid schema")
        expect(r.code).toBe(0);
      });

      it('network-config (if any) renders with -D alpine -O eni naming the address and gateway', async () => {
        const seed = seeds.get(name)!;
        const args = VARIANTS[name]!;
        const ip = args[args.indexOf('--ip') + 1];
        if (!args.includes('--ip')) {
          expect(seed.networkConfig, 'no network-config without --ip (DHCP)').toBeUndefined();
          return;
        }
        const schema = await schemaCheck(root, seed.networkConfig!, 'network-config');
        expect(schema.stdout + schema.stderr).toContain('Valid schema');
        const r = await netConvertAlpineEni(root, seed.networkConfig!);
        expect(r.code, r.stderr).toBe(0);
        const eni = Object.values(r.files).join('\n');
        const iface = args.includes('--interface') ? args[args.indexOf('--interface') + 1] : 'eth0';
        expect(eni).toMatch(new RegExp(`^iface ${iface} inet static$`, 'm'));
        expect(eni).toMatch(new RegExp(`^\\s+address ${ip!.replace(/\./g, '\\.')}$`, 'm'));
        if (args.includes('--gateway')) expect(eni).toContain(`route add default gw ${args[args.indexOf('--gateway') + 1]}`);
        else expect(eni).not.toMatch(/default gw/);
        for (let i = args.indexOf('--dns'); i >= 0; i = args.indexOf('--dns', i + 1)) expect(eni).toContain(args[i + 1]);
      });
    });

    it('the check can fail: a user-data with a wrong type is rejected by the 25.1.4 schema', async () => {
      const bad = seeds.get('default')!.userData.replace(/^ssh_pwauth: false$/m, 'ssh_pwauth: [not, a, boolean]');
      expect(bad).not.toBe(seeds.get('default')!.userData);
      const r = await schemaCheck(root, bad);
      expect(r.code).not.toBe(0);
      expect(r.stdout + r.stderr).toMatch(/ssh_pwauth/);
    });

    it('negative: a route `to: default` (schema-valid) makes net-convert -D alpine -O eni fail', async () => {
      const good = seeds.get('static network')!.networkConfig!;
      const bad = good.replace(/to: "?0\.0\.0\.0\/0"?/, 'to: default');
      expect(bad).not.toBe(good);
      // the schema lets it through, which is why the renderer itself must be asked
      expect((await schemaCheck(root, bad, 'network-config')).code).toBe(0);
      const r = await netConvertAlpineEni(root, bad);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(/Address default is not a valid ip/);
    });
  },
  vmTierMissing,
);
