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
import { CLOUD_INIT_VERSION, ensureGuestImage, VM_TIER_COMMANDS, vmTierMissing, type GuestImage } from './cloud-init/rootfs.js';
import { opensslVerifies, removeSeeds, seedFromTool, TEST_SSH_KEY, type Seed } from './cloud-init/seeds.js';
import { allStagesFinished, statusErrors, statusSchema, unexpectedErrors, type CloudInitStatus, type ExpectedError } from './cloud-init/status.js';

/** Errors the Debian guest reports for an Alpine seed; anything else in status.json fails the test. */
const EXPECTED_ON_DEBIAN: ExpectedError[] = [
  { stage: 'modules-final', module: 'package-update-upgrade-install', why: 'apk package names (openssh, doas, cgroup-tools...) and no mirror: the harness keeps the guest offline' },
  { stage: 'modules-final', module: 'scripts-user', why: 'runcmd calls rc-update / rc-service (OpenRC) and the Kubesolo installer (curl, download): Alpine-only' },
];

const DEFAULT_USER = { username: 'qksuser', password: 'correct horse battery', hostname: 'qks-vm-default' };
const CHANGED = { username: 'kubeops', password: 'another secret 42', hostname: 'qks-vm-static', ip: '192.168.50.10/24', gateway: '192.168.50.1', dns: '192.168.50.53' };

const GA_SCRIPT = '/etc/init.d/qemu-guest-agent-kubesolo';
const KUBESOLO_SCRIPT = '/etc/init.d/kubesolo';

function log(line: string): void {
  console.info(`[cloud-init VM] ${line}`);
}

function describeBoot(n: number, b: BootResult): string {
  return `boot ${n}: ${b.seconds.toFixed(1)} s wall to power-off, cloud-init finished at ${b.guestSeconds?.toFixed(1) ?? '?'} s guest uptime`;
}

async function status(disk: GuestDisk): Promise<CloudInitStatus> {
  const text = await disk.readText('/var/lib/cloud/data/status.json');
  expect(text, 'status.json written').toBeTruthy();
  return statusSchema.parse(JSON.parse(text!));
}

function assertBooted(b: BootResult): void {
  if (!b.finished) {
    throw new Error(`the guest did not report cloud-init finished (guest said: ${b.guestSaid ?? 'nothing'}; qemu ${JSON.stringify(b.exit)}); console tail:\n${b.console.slice(-3000)}`);
  }
}

/** The checks every applied seed must pass: user, password, key, doas rule, agent service script. */
async function expectUserApplied(disk: GuestDisk, seed: Seed, user: { username: string; password: string; hostname: string }): Promise<void> {
  expect((await disk.readText('/etc/hostname'))?.trim()).toBe(user.hostname);

  const passwd = (await disk.readText('/etc/passwd'))!.split('\n').find((l) => l.startsWith(`${user.username}:`));
  expect(passwd, `${user.username} in /etc/passwd`).toBeDefined();
  const [, , uid, gid, , home] = passwd!.split(':');

  const shadow = (await disk.readText('/etc/shadow'))!.split('\n').find((l) => l.startsWith(`${user.username}:`));
  const hash = shadow!.split(':')[1]!;
  expect(hash).toMatch(/^\$6\$/);
  expect(await opensslVerifies(hash, user.password), 'shadow hash verifies with openssl passwd -6').toBe(true);
  expect(await opensslVerifies(hash, `${user.password}x`)).toBe(false);

  const keysPath = `${home}/.ssh/authorized_keys`;
  expect((await disk.readText(keysPath))!.split('\n').filter(Boolean)).toEqual([TEST_SSH_KEY]);
  expect(await disk.stat(keysPath)).toMatchObject({ type: 'file', mode: 0o600, uid: Number(uid), gid: Number(gid) });

  const doas = `/etc/doas.d/${user.username}.conf`;
  expect(await disk.readText(doas)).toBe(`permit nopass ${user.username}\n`);
  expect(await disk.stat(doas)).toMatchObject({ type: 'file', mode: 0o600, uid: 0, gid: 0 });

  // The second qemu-ga, for the dedicated channel: the file the seed says, executable, with its own
  // port, pidfile, state dir and log (so it never collides with the standard instance).
  const ga = await disk.readText(GA_SCRIPT);
  expect(ga).toBe(seed.writeFiles.get(GA_SCRIPT)?.content);
  expect(ga).toMatch(/^#!\/sbin\/openrc-run\n/);
  for (const part of ['/dev/virtio-ports/org.qemu.guest_agent.1', '-f /run/qemu-ga-kubesolo.pid', '-t /run/qemu-ga-kubesolo', '-l /var/log/qemu-ga-kubesolo.log']) {
    expect(ga).toContain(part);
  }
  expect(await disk.stat(GA_SCRIPT)).toMatchObject({ type: 'file', mode: 0o755, uid: 0, gid: 0 });
}

function expectOnlyExpectedErrors(st: CloudInitStatus): void {
  expect(allStagesFinished(st), 'every cloud-init stage finished').toBe(true);
  const unexpected = unexpectedErrors(statusErrors(st), EXPECTED_ON_DEBIAN);
  expect(unexpected, 'cloud-init errors not explained by the guest being Debian').toEqual([]);
}

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
      const script = await disk.readText(KUBESOLO_SCRIPT);
      expect(script).toBe(changed.writeFiles.get(KUBESOLO_SCRIPT)?.content);
      expect(script).toMatch(/^#!\/sbin\/openrc-run\n/);
      expect(script).toContain('command="/usr/local/bin/kubesolo"');
      expect(script).toMatch(/command_args="--path=\/var\/lib\/kubesolo[ "]/);
      expect(script).toContain('command_background=true');
      expect(script).toMatch(/depend\(\) \{\s+need net\s+after firewall\s+\}/);
      expect(await disk.stat(KUBESOLO_SCRIPT)).toMatchObject({ type: 'file', mode: 0o755, uid: 0, gid: 0 });
      const installers = [...changed.writeFiles.keys()].filter((p) => p !== KUBESOLO_SCRIPT && /kubesolo/.test(p) && p !== GA_SCRIPT);
      for (const p of installers) {
        expect(await disk.readText(p), p).toBe(changed.writeFiles.get(p)?.content);
        const perm = changed.writeFiles.get(p)?.permissions;
        if (perm) expect((await disk.stat(p))?.mode, p).toBe(parseInt(perm, 8));
      }
    });

    it('static network: cloud-init rendered the address, gateway and DNS, and the guest came up with them', async () => {
      if (!changed) throw new Error('the changed-config boot did not run');
      // On Debian with ifupdown (and no netplan) cloud-init picks the eni renderer, as on Alpine.
      const eni = await disk.readText('/etc/network/interfaces.d/50-cloud-init');
      expect(eni).toMatch(/^auto eth0$/m);
      expect(eni).toMatch(/^iface eth0 inet static$/m);
      expect(eni).toMatch(new RegExp(`^\\s+address ${CHANGED.ip.replace(/\./g, '\\.')}$`, 'm'));
      expect(eni).toContain(`route add default gw ${CHANGED.gateway}`);
      expect(eni).toMatch(new RegExp(`^\\s+dns-nameservers ${CHANGED.dns.replace(/\./g, '\\.')}$`, 'm'));
      const report = (await disk.readText('/var/lib/qks-report/boot-3.txt')) ?? '';
      expect(report).toContain(`hostname: ${CHANGED.hostname}\n`);
      expect(report).toMatch(new RegExp(`addr: \\d+: eth0\\s+inet ${CHANGED.ip.replace(/\./g, '\\.')} `));
      expect(report).toContain(`route: default via ${CHANGED.gateway} dev eth0`);
    });
  },
  vmTierMissing,
);
