/**
 * What an applied seed must have done to the guest's disk, shared by the cloud-init VM tests.
 */
import { expect } from 'vitest';
import type { BootResult, GuestDisk } from './boot.js';
import { TEST_SSH_KEY, opensslVerifies, type Seed } from './seeds.js';
import { allStagesFinished, statusErrors, statusSchema, unexpectedErrors, type CloudInitStatus, type ExpectedError } from './status.js';

/** Errors the Debian guest reports for an Alpine seed; anything else in status.json fails the test. */
export const EXPECTED_ON_DEBIAN: ExpectedError[] = [
  { stage: 'modules-final', module: 'package-update-upgrade-install', why: 'apk package names (openssh, doas, cgroup-tools...) and no mirror: the harness keeps the guest offline' },
  { stage: 'modules-final', module: 'scripts-user', why: 'runcmd calls rc-update / rc-service (OpenRC) and the Kubesolo installer (curl, download): Alpine-only' },
];

export const GA_SCRIPT = '/etc/init.d/qemu-guest-agent-kubesolo';
export const KUBESOLO_SCRIPT = '/etc/init.d/kubesolo';

export function log(line: string): void {
  console.info(`[cloud-init VM] ${line}`);
}

export function describeBoot(n: number, b: BootResult): string {
  return `boot ${n}: ${b.seconds.toFixed(1)} s wall to power-off, cloud-init finished at ${b.guestSeconds?.toFixed(1) ?? '?'} s guest uptime`;
}

export async function status(disk: GuestDisk): Promise<CloudInitStatus> {
  const text = await disk.readText('/var/lib/cloud/data/status.json');
  expect(text, 'status.json written').toBeTruthy();
  return statusSchema.parse(JSON.parse(text!));
}

export function assertBooted(b: BootResult): void {
  if (!b.finished) {
    throw new Error(`the guest did not report cloud-init finished (guest said: ${b.guestSaid ?? 'nothing'}; qemu ${JSON.stringify(b.exit)}); console tail:\n${b.console.slice(-3000)}`);
  }
}

/** The checks every applied seed must pass: user, password, key, doas rule, agent service script. */
export async function expectUserApplied(disk: GuestDisk, seed: Seed, user: { username: string; password: string; hostname: string }): Promise<void> {
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
  // the port by its name (the /dev/virtio-ports link, else the sysfs name: templates/), its own pidfile
  for (const part of ['port_name="org.qemu.guest_agent.1"', 'pidfile="/run/qemu-ga-kubesolo.pid"', '-f ${pidfile}', '-t /run/qemu-ga-kubesolo', '-l /var/log/qemu-ga-kubesolo.log']) {
    expect(ga).toContain(part);
  }
  expect(await disk.stat(GA_SCRIPT)).toMatchObject({ type: 'file', mode: 0o755, uid: 0, gid: 0 });
}

/**
 * Debian 12's cloud-init 22.4.2 runs `update-locale`, which debootstrap's minbase lacks (package
 * `locales`); 25.1.4 skips the module there. The harness's gap, not the seed's.
 */
export const EXPECTED_ON_BOOKWORM: ExpectedError[] = [
  { stage: 'modules-config', module: 'locale', why: 'the minbase root has no update-locale (package locales)' },
];

export function expectOnlyExpectedErrors(st: CloudInitStatus, extra: ExpectedError[] = []): void {
  expect(allStagesFinished(st), 'every cloud-init stage finished').toBe(true);
  const unexpected = unexpectedErrors(statusErrors(st), [...EXPECTED_ON_DEBIAN, ...extra]);
  expect(unexpected, 'cloud-init errors not explained by the guest being Debian').toEqual([]);
}

/** --auto-install-kubesolo: the Kubesolo OpenRC script and the installer, as the seed says. */
export async function expectKubesoloScripts(disk: GuestDisk, seed: Seed): Promise<void> {
  const script = await disk.readText(KUBESOLO_SCRIPT);
  expect(script).toBe(seed.writeFiles.get(KUBESOLO_SCRIPT)?.content);
  expect(script).toMatch(/^#!\/sbin\/openrc-run\n/);
  expect(script).toContain('command="/usr/local/bin/kubesolo"');
  expect(script).toMatch(/command_args="--path=\/var\/lib\/kubesolo[ "]/);
  // supervised, as Kubesolo's systemd unit is (Restart=always, LimitNOFILE=65535)
  expect(script).toContain('supervisor=supervise-daemon');
  expect(script).toContain('rc_ulimit="-n 65535"');
  expect(script).toMatch(/depend\(\) \{\s+need net cgroups\s+after firewall\s+\}/);
  expect(await disk.stat(KUBESOLO_SCRIPT)).toMatchObject({ type: 'file', mode: 0o755, uid: 0, gid: 0 });
  const installers = [...seed.writeFiles.keys()].filter((p) => p !== KUBESOLO_SCRIPT && /kubesolo/.test(p) && p !== GA_SCRIPT);
  for (const p of installers) {
    expect(await disk.readText(p), p).toBe(seed.writeFiles.get(p)?.content);
    const perm = seed.writeFiles.get(p)?.permissions;
    if (perm) expect((await disk.stat(p))?.mode, p).toBe(parseInt(perm, 8));
  }
}

/**
 * --ip/--gateway/--dns: what cloud-init rendered, and what the running guest had (its report, written
 * just before power-off).
 */
export async function expectStaticNetwork(
  disk: GuestDisk,
  net: { hostname: string; ip: string; gateway: string; dns: string },
  reportPath: string,
): Promise<void> {
  // On Debian with ifupdown (and no netplan) cloud-init picks the eni renderer, as on Alpine.
  const eni = await disk.readText('/etc/network/interfaces.d/50-cloud-init');
  expect(eni).toMatch(/^auto eth0$/m);
  expect(eni).toMatch(/^iface eth0 inet static$/m);
  expect(eni).toMatch(new RegExp(`^\\s+address ${net.ip.replace(/\./g, '\\.')}$`, 'm'));
  expect(eni).toContain(`route add default gw ${net.gateway}`);
  expect(eni).toMatch(new RegExp(`^\\s+dns-nameservers ${net.dns.replace(/\./g, '\\.')}$`, 'm'));
  const report = (await disk.readText(reportPath)) ?? '';
  expect(report).toContain(`hostname: ${net.hostname}\n`);
  expect(report).toMatch(new RegExp(`addr: \\d+: eth0\\s+inet ${net.ip.replace(/\./g, '\\.')} `));
  expect(report).toContain(`route: default via ${net.gateway} dev eth0`);
}
