/**
 * The Alpine-shaped guest's second case (test/vm/alpine/README.md): the same guest built on Debian 12,
 * so cloud-init 22.4.2 runs the seed. This is the case that proves defect 6's fix (issue 15): 22.4's
 * Alpine class does not restart sshd after the first boot's key generation (25.x happens to), so only
 * the seed's runcmd starting it leaves sshd running. One boot, no reboot (alpine.test.ts covers that).
 */
import { afterAll, beforeAll, it } from 'vitest';
import { ensureLibvirtd, missingLibvirtd } from '../helpers/libvirtd.js';
import { describeWithPeers } from '../helpers/peers.js';
import { removeSeeds, type Seed } from './cloud-init/seeds.js';
import type { ExpectedError } from './cloud-init/status.js';
import { vmTierMissing } from './cloud-init/rootfs.js';
import { ALPINE_CLOUD_INIT, ensureAlpineImage, type AlpineImage } from './alpine/rootfs.js';
import { startAlpineDomain, type AlpineDomain } from './alpine/vm.js';
import {
  ALPINE_PEERS, alpineSeed, BOOT_MS, expectAgentChannels, expectCloudInitFinished, expectHostsAndShadow, expectKubeconfig, expectNetwork,
  expectSshdRunning, printTimes,
} from './alpine/checks.js';

const VM = 'qks-alpine-shaped-bookworm';

/** Errors that only real Alpine could avoid, each named: none with 22.4.2 either. */
const EXPECTED_ERRORS: ExpectedError[] = [];

const times: Record<string, number> = {};

describeWithPeers(
  `the seed in an Alpine-shaped guest with cloud-init ${ALPINE_CLOUD_INIT.bookworm} (Debian 12) under libvirtd`,
  ALPINE_PEERS,
  () => {
    let image: AlpineImage;
    let seed: Seed;
    let vm: AlpineDomain;

    beforeAll(async () => {
      let t = performance.now();
      await ensureLibvirtd();
      image = await ensureAlpineImage('bookworm');
      times['image (root build / image build)'] = (performance.now() - t) / 1000;
      console.log(`alpine-shaped bookworm image: root ${image.rootSeconds.toFixed(0)} s, image ${image.imageSeconds.toFixed(0)} s (0 = cached)`);
      seed = await alpineSeed(VM);
      t = performance.now();
      vm = await startAlpineDomain(VM, image, seed.iso);
      times['domain defined and started'] = (performance.now() - t) / 1000;
    });

    afterAll(async () => {
      printTimes('alpine-shaped bookworm', times);
      vm?.destroy();
      await removeSeeds();
    });

    it('boots to the end of OpenRC\'s default runlevel', async () => {
      const t = performance.now();
      await vm.waitForConsole(/QKS: default runlevel/, 1, BOOT_MS);
      times['first boot to the end of the default runlevel'] = (performance.now() - t) / 1000;
    }, BOOT_MS + 60_000);

    it(`cloud-init ${ALPINE_CLOUD_INIT.bookworm} with the Alpine distro class finished every stage without errors`, async () => {
      await expectCloudInitFinished(VM, 'bookworm', EXPECTED_ERRORS);
    });

    it('sshd runs after the first boot (defect 6: 22.4 does not restart it; the runcmd starts it)', async () => {
      await expectSshdRunning(VM);
    });

    it('the dedicated agent answers on org.qemu.guest_agent.1 while libvirt holds .0', async () => {
      await expectAgentChannels(VM);
    });

    it('/etc/resolv.conf has the nameserver; /etc/hosts the hostname; /etc/shadow the hash', async () => {
      await expectNetwork(VM);
      await expectHostsAndShadow(VM);
    });

    it('kubeconfig --vm-name --wait returns the stand-in Kubesolo\'s kubeconfig; kubectl verifies it', async () => {
      const { seconds } = await expectKubeconfig(VM, vm.apiPort);
      times['kubeconfig --wait'] = seconds;
    });
  },
  () => missingLibvirtd() ?? vmTierMissing(),
);
