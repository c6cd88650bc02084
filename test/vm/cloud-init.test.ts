/**
 * Proof that a real cloud-init applies OUR seed: a Debian 13 guest (cloud-init 25.1.4, the closest to
 * Alpine's) boots under QEMU from the cidata.iso that `qemu-kubesolo artifacts --create-iso` wrote,
 * powers off once cloud-init has finished, and its disk is read back. Alpine-only steps (apk packages,
 * OpenRC, the Kubesolo download) cannot run on Debian: they are proven as files written, and the errors
 * they cause are listed below as expected — any other cloud-init error fails the test.
 *
 * One disk, three boots: the default seed; the same seed again (per-instance modules must not run);
 * then a seed from a changed config (--auto-install-kubesolo with a static network, another user and
 * hostname), which is a new instance and must be applied in full.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeWithPeers } from '../helpers/peers.js';
import { GuestDisk, type BootResult } from './cloud-init/boot.js';
import {
  assertBooted, describeBoot, EXPECTED_ON_DEBIAN, expectOnlyExpectedErrors, expectKubesoloScripts, expectStaticNetwork, expectUserApplied, GA_SCRIPT, KUBESOLO_SCRIPT, log, status,
} from './cloud-init/effects.js';
import { CLOUD_INIT_VERSION, ensureGuestImage, VM_TIER_COMMANDS, vmTierMissing, type GuestImage } from './cloud-init/rootfs.js';
import { removeSeeds, seedFromTool, TEST_SSH_KEY, type Seed } from './cloud-init/seeds.js';
import { allStagesFinished, statusErrors } from './cloud-init/status.js';

const DEFAULT_USER = { username: 'qksuser', password: 'correct horse battery', hostname: 'qks-vm-default' };
const CHANGED = { username: 'kubeops', password: 'another secret 42', hostname: 'qks-vm-static', ip: '192.168.50.10/24', gateway: '192.168.50.1', dns: '192.168.50.53' };

describeWithPeers(
  'cloud-init 25.1.4 in a Debian 13 VM applies the seed from `artifacts --create-iso`',
  VM_TIER_COMMANDS,
  () => {
    let image: GuestImage;
    let disk: GuestDisk;
    let first: Seed;
    let changed: Seed;
    const boots: BootResult[] = [];
    const tierStarted = performance.now();

    beforeAll(async () => {
      image = await ensureGuestImage('trixie');
      log(`guest image ${image.image} (debootstrap ${image.debootstrapSeconds.toFixed(1)} s, image ${image.imageSeconds.toFixed(1)} s; 0 = cached)`);
      first = await seedFromTool(['--ssh-key', TEST_SSH_KEY, '--hostname', DEFAULT_USER.hostname, '--username', DEFAULT_USER.username], {
        VM_PASSWORD: DEFAULT_USER.password,
      });
      disk = await GuestDisk.create(image);
      boots.push(await disk.boot(first.iso));
      log(describeBoot(1, boots[0]!));
    });

    afterAll(async () => {
      await disk?.dispose();
      await removeSeeds();
      log(`whole file: ${((performance.now() - tierStarted) / 1000).toFixed(1)} s`);
    });

    it('boots, runs cloud-init 25.1.4 from the CD-ROM, and powers off once it has finished', async () => {
      assertBooted(boots[0]!);
      const st = await status(disk);
      expect(st.v1.datasource).toMatch(/^DataSourceNoCloud \[seed=\/dev\/sr0\]/);
      expect(await disk.list('/var/lib/cloud/instances')).toEqual([first.instanceId]);
      const ciLog = await disk.readText('/var/log/cloud-init.log');
      expect(ciLog).toContain(`Cloud-init v. ${CLOUD_INIT_VERSION.trixie}`);
    });

    it('default variant: hostname, user with the password and exactly the key, doas rule, dedicated qemu-ga service', async () => {
      assertBooted(boots[0]!);
      await expectUserApplied(disk, first, DEFAULT_USER);
      const report = await disk.readText('/var/lib/qks-report/boot-1.txt');
      expect(report).toContain(`hostname: ${DEFAULT_USER.hostname}\n`);
    });

    it('default variant: no Kubesolo service without --auto-install-kubesolo, and no static network', async () => {
      assertBooted(boots[0]!);
      expect(await disk.stat(KUBESOLO_SCRIPT)).toBeUndefined();
      expect(first.networkConfig).toBeUndefined();
      // cloud-init's fallback (DHCP on eth0), not an address from us
      expect(await disk.readText('/etc/network/interfaces.d/50-cloud-init')).toMatch(/iface eth0 inet dhcp/);
    });

    it(`status.json: no errors but the ${EXPECTED_ON_DEBIAN.length} expected on Debian (${EXPECTED_ON_DEBIAN.map((e) => e.module).join(', ')})`, async () => {
      assertBooted(boots[0]!);
      const st = await status(disk);
      expectOnlyExpectedErrors(st);
      // Both expected errors do occur: the modules ran (the seed's packages and runcmd reached cloud-init).
      const modules = statusErrors(st).map((e) => /^\('([\w-]+)'/.exec(e.text)?.[1]);
      expect(modules.sort()).toEqual(EXPECTED_ON_DEBIAN.map((e) => e.module).sort());
    });

    it('a second boot with the same seed does not run per-instance modules again', async () => {
      assertBooted(boots[0]!);
      // Remove a file write_files made: only a new run of write_files (per instance) brings it back.
      await disk.remove(GA_SCRIPT);
      const b = await disk.boot(first.iso);
      boots.push(b);
      log(describeBoot(2, b));
      assertBooted(b);
      expect(await disk.readText('/var/lib/qks-report/boot-2.txt')).toContain('finished: yes');
      expect(await disk.list('/var/lib/cloud/instances')).toEqual([first.instanceId]);
      expect(await disk.stat(GA_SCRIPT)).toBeUndefined();
      // packages and runcmd are per instance: they did not run, so their errors are gone too
      const st = await status(disk);
      expect(allStagesFinished(st)).toBe(true);
      expect(statusErrors(st)).toEqual([]);
    });

    it('a seed from a changed config (--auto-install-kubesolo, static network) is a new instance, applied in full', async () => {
      assertBooted(boots[1] ?? boots[0]!);
      changed = await seedFromTool(
        ['--ssh-key', TEST_SSH_KEY, '--hostname', CHANGED.hostname, '--username', CHANGED.username, '--auto-install-kubesolo',
          '--ip', CHANGED.ip, '--gateway', CHANGED.gateway, '--dns', CHANGED.dns],
        { VM_PASSWORD: CHANGED.password },
      );
      expect(changed.instanceId).not.toBe(first.instanceId);
      const b = await disk.boot(changed.iso);
      boots.push(b);
      log(describeBoot(3, b));
      assertBooted(b);
      expect((await disk.list('/var/lib/cloud/instances'))?.sort()).toEqual([first.instanceId, changed.instanceId].sort());
      // write_files ran again: the removed script is back
      await expectUserApplied(disk, changed, CHANGED);
      expectOnlyExpectedErrors(await status(disk));
    });

    it('auto-install: the Kubesolo OpenRC script and its installer are written with the right content and modes', async () => {
      if (!changed) throw new Error('the changed-config boot did not run');
      await expectKubesoloScripts(disk, changed);
    });

    it('static network: cloud-init rendered the address, gateway and DNS, and the guest came up with them', async () => {
      if (!changed) throw new Error('the changed-config boot did not run');
      await expectStaticNetwork(disk, CHANGED, '/var/lib/qks-report/boot-3.txt');
    });
  },
  vmTierMissing,
);
