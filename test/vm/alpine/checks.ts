/**
 * What both Alpine-shaped test files (test/vm/alpine.test.ts on Debian 13, alpine-bookworm.test.ts on
 * Debian 12) share: the seed they boot, the tool run against the domain by name (the dedicated agent
 * channel), and the checks made from the host. Each check takes the domain's name, so the two files
 * differ only in suite, name and which checks they run.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { expect } from 'vitest';
import { parse } from 'yaml';
import { runCli } from '../../helpers/cli.js';
import { ensureLibvirtd } from '../../helpers/libvirtd.js';
import { opensslVerifies, removeSeeds, seedFromTool, TEST_SSH_KEY, type Seed } from '../cloud-init/seeds.js';
import { allStagesFinished, statusErrors, statusSchema, unexpectedErrors, type ExpectedError } from '../cloud-init/status.js';
import { ALPINE_CLOUD_INIT, ensureAlpineImage, PREEXISTING_USER, STANDIN_TARBALL, type AlpineImage, type AlpineSuite } from './rootfs.js';
import { startAlpineDomain, virsh, type AlpineDomain } from './vm.js';

/** Commands both files need on the host. */
export const ALPINE_PEERS = ['libvirtd', 'virsh', 'qemu-system-x86_64', 'debootstrap', 'mkfs.ext4', 'chroot', 'kubectl', 'openssl', 'tar'];
export const PASSWORD = 'alpine-shaped-pw';
export const API_SANS = ['203.0.113.10', 'k8s.example.com'];
export const APK_REPO = 'http://10.0.2.2/alpine/v3.22/main';
/** Bounds: TCG boots on a shared 2-core machine (110-140 s quiet; 420-490 s seen at load 8-19). */
export const BOOT_MS = 900_000;

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The seed both files boot: static network with --dns, two --api-address, Kubesolo from the image's file:// tarball. */
export function alpineSeed(vm: string): Promise<Seed> {
  return seedFromTool(
    [
      '--hostname', vm, '--username', PREEXISTING_USER, '--password', PASSWORD, '--ssh-key', TEST_SSH_KEY,
      '--ip', '10.0.2.15/24', '--gateway', '10.0.2.2', '--dns', '10.0.2.3',
      '--auto-install-kubesolo', ...API_SANS.flatMap((a) => ['--api-address', a]), '--kubesolo-url', `file://${STANDIN_TARBALL}`,
    ],
    { APK_REPOSITORIES: APK_REPO }, // the variable of --apk-repository
  );
}

export interface AlpineGuest {
  image: AlpineImage;
  seed: Seed;
  vm: AlpineDomain;
}

/** Builds (or reuses) the suite's image, makes the seed and starts the domain, timing the stages into `times`. */
export async function startAlpineGuest(name: string, suite: AlpineSuite, times: Record<string, number>): Promise<AlpineGuest> {
  let t = performance.now();
  await ensureLibvirtd();
  const image = await ensureAlpineImage(suite);
  times['image (root build / image build)'] = (performance.now() - t) / 1000;
  console.log(`alpine-shaped ${suite} image: root ${image.rootSeconds.toFixed(0)} s, image ${image.imageSeconds.toFixed(0)} s (0 = cached)`);
  const seed = await alpineSeed(name);
  t = performance.now();
  const vm = await startAlpineDomain(name, image, seed.iso);
  times['domain defined and started'] = (performance.now() - t) / 1000;
  return { image, seed, vm };
}

/** Waits for the `count`th end of OpenRC's default runlevel (1 = first boot), timing it as `stage`. */
export async function waitForDefaultRunlevel(vm: AlpineDomain, count: number, stage: string, times: Record<string, number>): Promise<void> {
  const t = performance.now();
  await vm.waitForConsole(/QKS: default runlevel/, count, BOOT_MS);
  times[stage] = (performance.now() - t) / 1000;
}

/** Prints the stage times, destroys the domain (when it was started) and removes the seeds. */
export async function stopAlpineGuest(label: string, guest: AlpineGuest | undefined, times: Record<string, number>): Promise<void> {
  console.log(`${label} stage times (s): ${JSON.stringify(Object.fromEntries(Object.entries(times).map(([k, v]) => [k, Math.round(v)])))}`);
  guest?.vm.destroy();
  await removeSeeds();
}

/** The tool as users run it, targeting the domain by name (dedicated channel first). */
export function tool(args: string[], timeoutMs = 60_000) {
  return runCli(['--json', ...args], { cleanEnv: true, env: { HOME: tmpdir(), NO_COLOR: '1' }, timeoutMs });
}

export interface ExecResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** A program in the guest through the tool's `agent exec` (the dedicated channel). */
export async function guestExec(vm: string, argv: string[]): Promise<ExecResult> {
  const r = await tool(['agent', 'exec', '--vm-name', vm, '--transport', 'direct', '--', ...argv], 90_000);
  const j = r.json.at(-1) as { exitCode?: number; stdout?: string; stderr?: string } | undefined;
  if (!j || typeof j.exitCode !== 'number') throw new Error(`agent exec ${argv.join(' ')}: exit ${r.code}\n${r.stdout}\n${r.stderr}`);
  return { exitCode: j.exitCode, stdout: j.stdout ?? '', stderr: j.stderr ?? '' };
}

/** A file in the guest through the tool's `agent cat` (the dedicated channel). */
export async function guestFile(vm: string, path: string): Promise<string | undefined> {
  const r = await runCli(['agent', 'cat', '--vm-name', vm, '--transport', 'direct', path], { cleanEnv: true, env: { HOME: tmpdir() }, timeoutMs: 60_000 });
  return r.code === 0 ? r.stdout : undefined;
}

export async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await sleep(2000);
  }
}

/** cloud-init of the suite, with the Alpine distro class, finished every stage with no error but the named ones. */
export async function expectCloudInitFinished(vm: string, suite: AlpineSuite, expected: ExpectedError[]): Promise<void> {
  const version = await guestExec(vm, ['/usr/bin/cloud-init', '--version']);
  expect(version.stdout + version.stderr).toContain(ALPINE_CLOUD_INIT[suite]);
  await until('boot-finished', 120_000, () => guestFile(vm, '/var/lib/cloud/instance/boot-finished'));
  const status = statusSchema.parse(JSON.parse((await guestFile(vm, '/var/lib/cloud/data/status.json'))!));
  expect(allStagesFinished(status)).toBe(true);
  expect(status.v1.datasource).toMatch(/NoCloud/);
  const errors = unexpectedErrors(statusErrors(status), expected);
  expect(errors, JSON.stringify(errors)).toEqual([]);
  const log = (await guestFile(vm, '/var/log/cloud-init.log')) ?? '';
  expect(log).toMatch(/distros\.alpine|Distro alpine|distro=alpine|alpine\.Distro/i);
}

/** OpenRC started qemu-guest-agent-kubesolo; the tool answers through .1 while libvirt holds .0. */
export async function expectAgentChannels(vm: string): Promise<void> {
  const st = await guestExec(vm, ['/sbin/rc-service', 'qemu-guest-agent-kubesolo', 'status']);
  expect(st.stdout + st.stderr).toMatch(/started/);
  const ping = await tool(['agent', 'ping', '--vm-name', vm, '--transport', 'direct']);
  expect(ping.code, ping.stderr).toBe(0);
  expect(JSON.stringify(ping.json)).toContain('org.qemu.guest_agent.1');
  // libvirt's own connection on .0 answers at the same time
  const lv = virsh(['qemu-agent-command', '--timeout', '10', vm, '{"execute":"guest-ping"}']);
  expect(lv.ok, lv.err).toBe(true);
  expect(await guestFile(vm, '/etc/hostname')).toBe(`${vm}\n`);
}

/** /etc/resolv.conf has the nameserver given (ifupdown-ng ignores dns-nameservers); eth0 has the address and route. */
export async function expectNetwork(vm: string): Promise<void> {
  const resolv = (await guestFile(vm, '/etc/resolv.conf')) ?? '';
  expect(resolv).toMatch(/^nameserver 10\.0\.2\.3$/m);
  const ifaces = (await guestFile(vm, '/etc/network/interfaces')) ?? '';
  expect(ifaces).toContain('dns-nameservers 10.0.2.3');
  const addr = await guestExec(vm, ['/usr/bin/ip', '-4', '-o', 'addr', 'show', 'eth0']);
  expect(addr.stdout).toContain('10.0.2.15/24');
  const route = await guestExec(vm, ['/usr/bin/ip', '-4', 'route', 'show', 'default']);
  expect(route.stdout).toContain('via 10.0.2.2');
}

/** /etc/hosts names the host on 127.0.1.1; /etc/shadow has a hash of the password for the user the image had. */
export async function expectHostsAndShadow(vm: string): Promise<void> {
  const hosts = (await guestFile(vm, '/etc/hosts')) ?? '';
  expect(hosts).toMatch(new RegExp(`^127\\.0\\.1\\.1\\s.*\\b${vm}\\b`, 'm'));
  expect(hosts).toMatch(/^127\.0\.0\.1\s+localhost/m);
  const shadow = ((await guestFile(vm, '/etc/shadow')) ?? '').split('\n').find((l) => l.startsWith(`${PREEXISTING_USER}:`));
  const hash = shadow?.split(':')[1] ?? '';
  expect(await opensslVerifies(hash, PASSWORD), `shadow: ${hash}`).toBe(true);
  const keys = await guestFile(vm, `/home/${PREEXISTING_USER}/.ssh/authorized_keys`);
  expect(keys).toContain(TEST_SSH_KEY);
}

/** sshd runs (defect 6: the runcmd must start it, not only add it to the runlevel). */
export async function expectSshdRunning(vm: string): Promise<void> {
  const st = await guestExec(vm, ['/sbin/rc-service', 'sshd', 'status']);
  expect(st.stdout + st.stderr).toMatch(/started/);
  const pid = await guestExec(vm, ['/usr/bin/pgrep', '-x', 'sshd']);
  expect(pid.exitCode).toBe(0);
}

/** The API certificate's subjectAltName, read through the forward. */
function peerSans(port: number): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port, rejectUnauthorized: false }, () => {
      resolve(s.getPeerCertificate().subjectaltname ?? '');
      s.destroy();
    });
    s.on('error', reject);
  });
}

/**
 * `kubeconfig --vm-name --wait --api-server 127.0.0.1:<forward>` returns the stand-in Kubesolo's
 * kubeconfig; the real kubectl verifies it through the forward; the certificate has the SANs given.
 * Returns the kubeconfig's path and the command's time in seconds.
 */
export async function expectKubeconfig(vm: string, apiPort: number): Promise<{ file: string; seconds: number }> {
  const t = performance.now();
  const out = mkdtempSync(join(tmpdir(), 'qks-alpine-kc-'));
  const file = join(out, 'kubeconfig');
  const r = await runCli(['kubeconfig', '--vm-name', vm, '--wait', '--timeout', '300', '--api-server', `127.0.0.1:${apiPort}`, '--output', file], {
    cleanEnv: true, env: { HOME: out }, timeoutMs: 360_000,
  });
  const seconds = (performance.now() - t) / 1000;
  expect(r.code, r.stderr).toBe(0);
  const kc = parse(readFileSync(file, 'utf8')) as { clusters: Array<{ cluster: { server: string } }> };
  expect(kc.clusters[0]!.cluster.server).toBe(`https://127.0.0.1:${apiPort}`);
  const ready = spawnSync('kubectl', ['--kubeconfig', file, 'get', '--raw', '/readyz'], { encoding: 'utf8', timeout: 60_000 });
  expect(ready.stdout.trim(), ready.stderr).toBe('ok');
  const san = await peerSans(apiPort);
  expect(san).toContain('DNS:k8s.example.com');
  expect(san).toContain('IP Address:203.0.113.10');
  return { file, seconds };
}
