/**
 * The seed in an Alpine-shaped guest (test/vm/alpine/README.md): OpenRC + busybox init, cloud-init's
 * Alpine distro class and module lists, ifupdown-ng, no /etc/resolv.conf, an apk shim, qemu-ga at
 * /usr/bin/qemu-ga; booted by the real libvirtd from the project's own domain-xml, with QEMU user
 * networking (restrict=on) and one loopback forward to the guest's 6443. Every check is made from the
 * host: through the tool's dedicated agent channel (org.qemu.guest_agent.1), libvirt's own (.0), and
 * the forward (the real kubectl).
 */
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { parse } from 'yaml';
import { missingLibvirtd } from '../helpers/libvirtd.js';
import { describeWithPeers } from '../helpers/peers.js';
import type { Seed } from './cloud-init/seeds.js';
import type { ExpectedError } from './cloud-init/status.js';
import { vmTierMissing } from './cloud-init/rootfs.js';
import { ALPINE_CLOUD_INIT, PREEXISTING_USER } from './alpine/rootfs.js';
import { virsh, type AlpineDomain } from './alpine/vm.js';
import {
  ALPINE_PEERS, APK_REPO, BOOT_MS, expectAgentChannels, expectCloudInitFinished, expectHostsAndShadow, expectKubeconfig, expectNetwork,
  expectSshdRunning, guestExec as exec, guestFile as file, startAlpineGuest, stopAlpineGuest, tool, until, waitForDefaultRunlevel,
  type AlpineGuest,
} from './alpine/checks.js';

const VM = 'qks-alpine-shaped';
const guestExec = (argv: string[]) => exec(VM, argv);
const guestFile = (path: string) => file(VM, path);

const times: Record<string, number> = {};

/** Errors that only real Alpine could avoid, each named: none are expected so far. */
const EXPECTED_ERRORS: ExpectedError[] = [];

describeWithPeers(
  'the seed in an Alpine-shaped guest (OpenRC, ifupdown-ng, cloud-init distro alpine) under libvirtd',
  ALPINE_PEERS,
  () => {
    let guest: AlpineGuest;
    let seed: Seed;
    let vm: AlpineDomain;
    let kubeconfigFile: string;

    beforeAll(async () => {
      guest = await startAlpineGuest(VM, 'trixie', times);
      ({ seed, vm } = guest);
    });

    afterAll(() => stopAlpineGuest('alpine-shaped', guest, times));

    it('boots to the end of OpenRC\'s default runlevel', async () => {
      await waitForDefaultRunlevel(vm, 1, 'first boot to the end of the default runlevel', times);
    }, BOOT_MS + 60_000);

    it(`cloud-init ${ALPINE_CLOUD_INIT.trixie} with the Alpine distro class finished every stage without errors`, async () => {
      await expectCloudInitFinished(VM, 'trixie', EXPECTED_ERRORS);
    });

    it('OpenRC started qemu-guest-agent-kubesolo: the tool reads files through org.qemu.guest_agent.1 while libvirt holds .0', async () => {
      await expectAgentChannels(VM);
    });

    it('/etc/resolv.conf has the nameserver given (ifupdown-ng ignores dns-nameservers); eth0 has the address and route', async () => {
      await expectNetwork(VM);
    });

    it('/etc/hosts names the host; /etc/shadow has the hash for the user the image already had; the doas rule grants', async () => {
      await expectHostsAndShadow(VM);
      const rule = seed.writeFiles.get(`/etc/doas.d/${PREEXISTING_USER}.conf`)!;
      expect(await guestFile(`/etc/doas.d/${PREEXISTING_USER}.conf`)).toBe(rule.content);
      const mode = await guestExec(['/usr/bin/stat', '-c', '%a %U', `/etc/doas.d/${PREEXISTING_USER}.conf`]);
      expect(mode.stdout.trim()).toBe('600 root');
      // Debian's opendoas reads /etc/doas.conf only: check the rule file's content as the user (doas -C
      // reads the file as the caller, and the rule file is 0600 root, so a readable copy of it)
      const copy = '/tmp/qks-doas-check.conf';
      const doas = await guestExec([
        '/bin/sh', '-c',
        `install -m 0644 /etc/doas.d/${PREEXISTING_USER}.conf ${copy} && runuser -u ${PREEXISTING_USER} -- doas -C ${copy} /bin/true`,
      ]);
      expect(doas.stdout.trim(), doas.stderr).toBe('permit nopass');
    });

    it('sshd runs after the first boot', async () => {
      await expectSshdRunning(VM);
    });

    it('apk: one add with the seed\'s packages, from the --apk-repository given', async () => {
      const log = ((await guestFile('/var/log/apk-shim.log')) ?? '').trim().split('\n');
      const adds = log.filter((l) => / add /.test(` ${l} `));
      expect(adds, log.join('\n')).toHaveLength(1);
      const ud = parse(seed.userData) as { packages: string[] };
      for (const p of ud.packages) expect(adds[0]!.split(/\s+/)).toContain(p);
      expect(log.some((l) => l.split(/\s+/).includes('update'))).toBe(true);
      expect(await guestFile('/etc/apk/repositories')).toBe(`${APK_REPO}\n`);
    });

    it('--auto-install-kubesolo --kubesolo-url file://: the installer ran under OpenRC; kubesolo supervised with nofile 65535', async () => {
      const st = await guestExec(['/sbin/rc-service', 'kubesolo', 'status']);
      expect(st.stdout + st.stderr).toMatch(/started/);
      const sup = await guestExec(['/usr/bin/pgrep', '-f', 'supervise-daemon kubesolo']);
      expect(sup.exitCode, 'supervise-daemon runs kubesolo').toBe(0);
      const child = await guestExec(['/usr/bin/pgrep', '-f', '^/usr/bin/python3 /usr/local/bin/kubesolo']);
      const pid = child.stdout.trim().split('\n')[0]!;
      const limits = (await guestFile(`/proc/${pid}/limits`)) ?? '';
      expect(limits).toMatch(/Max open files\s+65535\s+65535/);
      const runlevel = await guestExec(['/sbin/rc-update', 'show', 'default']);
      expect(runlevel.stdout).toMatch(/kubesolo/);
    });

    it('kubeconfig --vm-name --wait --api-server 127.0.0.1:<forward> returns it; the real kubectl verifies it through the forward', async () => {
      const kc = await expectKubeconfig(VM, vm.apiPort);
      times['kubeconfig --wait'] = kc.seconds;
      kubeconfigFile = kc.file;
    });

    it('after a restart of the domain (a reboot through the agent) the services come back', async () => {
      const r = await tool(['agent', 'execute', '--vm-name', VM, '--transport', 'direct', 'guest-exec', JSON.stringify({ path: '/sbin/reboot' })]);
      expect(r.code, r.stderr).toBe(0);
      await waitForDefaultRunlevel(vm, 2, 'reboot to the end of the default runlevel', times);
      for (const svc of ['qemu-guest-agent', 'qemu-guest-agent-kubesolo', 'sshd', 'kubesolo']) {
        const st = await until(`${svc} started`, 120_000, async () => {
          const s = await guestExec(['/sbin/rc-service', svc, 'status']);
          return /started/.test(s.stdout + s.stderr) ? s : undefined;
        });
        expect(st.exitCode, svc).toBe(0);
      }
      const lv = virsh(['qemu-agent-command', '--timeout', '10', VM, '{"execute":"guest-ping"}']);
      expect(lv.ok, lv.err).toBe(true);
      const ready = await until('readyz through the forward', 120_000, async () => {
        const k = spawnSync('kubectl', ['--kubeconfig', kubeconfigFile, 'get', '--raw', '/readyz'], { encoding: 'utf8', timeout: 30_000 });
        return k.stdout.trim() === 'ok' ? k.stdout : undefined;
      });
      expect(ready.trim()).toBe('ok');
    }, BOOT_MS + 300_000);
  },
  () => missingLibvirtd() ?? vmTierMissing(),
);
