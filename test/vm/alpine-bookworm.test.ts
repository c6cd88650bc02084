/**
 * The Alpine-shaped guest's second case (test/vm/alpine/README.md): the same guest built on Debian 12,
 * so cloud-init 22.4.2 runs the seed. This is the case that proves defect 6's fix (issue 15): 22.4's
 * Alpine class does not restart sshd after the first boot's key generation (25.x happens to), so only
 * the seed's runcmd starting it leaves sshd running. One boot, no reboot (alpine.test.ts covers that).
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { missingLibvirtd } from '../helpers/libvirtd.js';
import { describeWithPeers } from '../helpers/peers.js';
import type { ExpectedError } from './cloud-init/status.js';
import { vmTierMissing } from './cloud-init/rootfs.js';
import { ALPINE_CLOUD_INIT } from './alpine/rootfs.js';
import {
  ALPINE_PEERS, BOOT_MS, expectAgentChannels, expectCloudInitFinished, expectHostsAndShadow, expectKubeconfig, expectNetwork,
  expectSshdRunning, startAlpineGuest, stopAlpineGuest, waitForDefaultRunlevel, type AlpineGuest,
} from './alpine/checks.js';

const VM = 'qks-alpine-shaped-bookworm';

/** Errors that only real Alpine could avoid, each named: none with 22.4.2 either. */
const EXPECTED_ERRORS: ExpectedError[] = [];

const times: Record<string, number> = {};

describeWithPeers(
  `the seed in an Alpine-shaped guest with cloud-init ${ALPINE_CLOUD_INIT.bookworm} (Debian 12) under libvirtd`,
  ALPINE_PEERS,
  () => {
    let guest: AlpineGuest;

    beforeAll(async () => {
      guest = await startAlpineGuest(VM, 'bookworm', times);
    });

    afterAll(() => stopAlpineGuest('alpine-shaped bookworm', guest, times));

    it('boots to the end of OpenRC\'s default runlevel', async () => {
      await waitForDefaultRunlevel(guest.vm, 1, 'first boot to the end of the default runlevel', times);
    }, BOOT_MS + 60_000);

    it(`cloud-init ${ALPINE_CLOUD_INIT.bookworm} with the Alpine distro class finished every stage without errors`, async () => {
      await expectCloudInitFinished(VM, 'bookworm', EXPECTED_ERRORS);
    });

    it('sshd runs after the first boot (defect 6: 22.4 does not restart it; the runcmd starts it)', async () => {
      await expectSshdRunning(VM);
      // the runcmd's `rc-service sshd start` found it stopped (else OpenRC prints "already been started"):
      // without that line of the seed, sshd would not run
      const console = guest.vm.console();
      expect(console).toMatch(/service sshd added to runlevel default\s+(\* \/run\/sshd: creating directory\s+)?\* Starting sshd \.\.\./);
      expect(console).not.toMatch(/sshd has already been started/);
    });

    it('the dedicated agent answers on org.qemu.guest_agent.1 while libvirt holds .0', async () => {
      await expectAgentChannels(VM);
    });

    it('/etc/resolv.conf has the nameserver; /etc/hosts the hostname; /etc/shadow the hash', async () => {
      await expectNetwork(VM);
      await expectHostsAndShadow(VM);
    });

    it('kubeconfig --vm-name --wait returns the stand-in Kubesolo\'s kubeconfig; kubectl verifies it', async () => {
      const { seconds } = await expectKubeconfig(VM, guest.vm.apiPort);
      times['kubeconfig --wait'] = seconds;
    });
  },
  () => missingLibvirtd() ?? vmTierMissing(),
);
