/**
 * The second guest: Debian 12 with cloud-init 22.4.2, older than any Alpine release's, so the seed is
 * not tied to one cloud-init. One boot of the fullest seed (--auto-install-kubesolo with a static
 * network); the same effects as on Debian 13 (cloud-init.test.ts) must be on its disk.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeWithPeers } from '../helpers/peers.js';
import { GuestDisk, type BootResult } from './cloud-init/boot.js';
import { assertBooted, describeBoot, EXPECTED_ON_BOOKWORM, expectKubesoloScripts, expectOnlyExpectedErrors, expectStaticNetwork, expectUserApplied, log, status } from './cloud-init/effects.js';
import { CLOUD_INIT_VERSION, ensureGuestImage, VM_TIER_COMMANDS, vmTierMissing } from './cloud-init/rootfs.js';
import { removeSeeds, seedFromTool, TEST_SSH_KEY, type Seed } from './cloud-init/seeds.js';

const VM = { username: 'opsuser', password: 'bookworm pw 7', hostname: 'qks-vm-bookworm', ip: '10.0.2.77/24', gateway: '10.0.2.1', dns: '10.0.2.3' };

describeWithPeers(
  'cloud-init 22.4.2 in a Debian 12 VM applies the --auto-install-kubesolo + static network seed',
  VM_TIER_COMMANDS,
  () => {
    let disk: GuestDisk;
    let seed: Seed;
    let boot: BootResult;

    beforeAll(async () => {
      const image = await ensureGuestImage('bookworm');
      log(`bookworm image (debootstrap ${image.debootstrapSeconds.toFixed(1)} s, image ${image.imageSeconds.toFixed(1)} s; 0 = cached)`);
      seed = await seedFromTool(
        ['--ssh-key', TEST_SSH_KEY, '--hostname', VM.hostname, '--username', VM.username, '--auto-install-kubesolo', '--ip', VM.ip, '--gateway', VM.gateway, '--dns', VM.dns],
        { VM_PASSWORD: VM.password },
      );
      disk = await GuestDisk.create(image);
      boot = await disk.boot(seed.iso);
      log(`bookworm ${describeBoot(1, boot)}`);
    });

    afterAll(async () => {
      await disk?.dispose();
      await removeSeeds();
    });

    it('boots and runs cloud-init 22.4.2 from our ISO', async () => {
      assertBooted(boot);
      expect((await status(disk)).v1.datasource).toMatch(/^DataSourceNoCloud \[seed=\/dev\/sr0\]/);
      expect(await disk.readText('/var/log/cloud-init.log')).toContain(`Cloud-init v. ${CLOUD_INIT_VERSION.bookworm}`);
      expect(await disk.list('/var/lib/cloud/instances')).toEqual([seed.instanceId]);
    });

    it('hostname, user, password, key, doas rule, both OpenRC scripts, static network', async () => {
      assertBooted(boot);
      await expectUserApplied(disk, seed, VM);
      await expectKubesoloScripts(disk, seed);
      await expectStaticNetwork(disk, VM, '/var/lib/qks-report/boot-1.txt');
    });

    it('status.json: no errors but those expected on Debian (and the minbase locale gap)', async () => {
      assertBooted(boot);
      expectOnlyExpectedErrors(await status(disk), EXPECTED_ON_BOOKWORM);
    });
  },
  vmTierMissing,
);
