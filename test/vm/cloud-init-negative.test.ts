/**
 * The cloud-init VM tier can fail: our own seed files, packed wrongly, must NOT be applied by a real
 * cloud-init. One boot with two CD-ROMs, each carrying the tool's user-data and meta-data with its own
 * hostname, so each failure is seen on its own:
 *  - a plain ISO 9660 labelled cidata, without Joliet and Rock Ridge (the kernel shows 8.3 names such
 *    as user_dat, so NoCloud finds the label but not the files);
 *  - an ISO with Joliet and Rock Ridge but the wrong volume label (NoCloud never looks at it).
 * (The route `to: default` negative needs no boot: cloud-init-schema.test.ts.)
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeWithPeers } from '../helpers/peers.js';
import { GuestDisk, type BootResult } from './cloud-init/boot.js';
import { ensureGuestImage, VM_TIER_COMMANDS, vmTierMissing } from './cloud-init/rootfs.js';
import { isoLabel, removeSeeds, seedFromTool, seedWithGenisoimage, TEST_SSH_KEY } from './cloud-init/seeds.js';
import { statusSchema } from './cloud-init/status.js';

const NO_EXTENSIONS = 'qks-neg-plain-iso';
const WRONG_LABEL = 'qks-neg-wrong-label';

describeWithPeers(
  'cloud-init 25.1.4 in a Debian 13 VM ignores a seed without Joliet/Rock Ridge and one with a wrong label',
  VM_TIER_COMMANDS,
  () => {
    let disk: GuestDisk;
    let boot: BootResult;
    const isos: Record<string, string> = {};

    beforeAll(async () => {
      const image = await ensureGuestImage('trixie');
      const plain = await seedFromTool(['--ssh-key', TEST_SSH_KEY, '--hostname', NO_EXTENSIONS]);
      const labelled = await seedFromTool(['--ssh-key', TEST_SSH_KEY, '--hostname', WRONG_LABEL]);
      isos.plain = await seedWithGenisoimage(plain, { label: 'cidata', extensions: false });
      isos.labelled = await seedWithGenisoimage(labelled, { label: 'notcidata', extensions: true });
      disk = await GuestDisk.create(image);
      boot = await disk.boot([isos.plain, isos.labelled]);
      console.info(`[cloud-init VM] negative boot: ${boot.seconds.toFixed(1)} s wall, cloud-init finished at ${boot.guestSeconds?.toFixed(1) ?? '?'} s guest uptime`);
    });

    afterAll(async () => {
      await disk?.dispose();
      await removeSeeds();
    });

    it('the seeds are what they claim: labels as blkid reads them', async () => {
      expect(await isoLabel(isos.plain!)).toBe('cidata');
      expect(await isoLabel(isos.labelled!)).toBe('notcidata');
    });

    it('the guest still booted and cloud-init finished, with no NoCloud datasource found', async () => {
      expect(boot.finished, `console tail:\n${boot.console.slice(-3000)}`).toBe(true);
      const st = statusSchema.parse(JSON.parse((await disk.readText('/var/lib/cloud/data/status.json'))!));
      expect(st.v1.datasource ?? '').not.toMatch(/NoCloud/);
      expect(await disk.list('/var/lib/cloud/instances')).not.toContain(expect.stringMatching(/^iid-/));
    });

    it('a cidata ISO without Joliet and Rock Ridge is not applied (its hostname never appears)', async () => {
      expect(boot.finished).toBe(true);
      expect((await disk.readText('/etc/hostname'))?.trim()).not.toBe(NO_EXTENSIONS);
      expect(await disk.readText('/var/lib/qks-report/boot-1.txt')).not.toContain(NO_EXTENSIONS);
    });

    it('an ISO with the wrong volume label is not applied (its hostname never appears)', async () => {
      expect(boot.finished).toBe(true);
      expect((await disk.readText('/etc/hostname'))?.trim()).not.toBe(WRONG_LABEL);
      expect(await disk.readText('/var/lib/qks-report/boot-1.txt')).not.toContain(WRONG_LABEL);
      expect(await disk.stat('/etc/init.d/qemu-guest-agent-kubesolo')).toBeUndefined();
    });
  },
  vmTierMissing,
);
