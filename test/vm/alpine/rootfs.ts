/**
 * The Alpine-shaped guest (README.md here): a Debian root made by build-root.sh (cloud-init, OpenRC,
 * ifupdown-ng, busybox, opendoas, qemu-guest-agent), cached under QKS_VM_CACHE by a key hashed from
 * the script; then an ext4 image with the host kernel's modules and the files in guest/ that make it
 * behave like Alpine's cloud image where the seed depends on it, keyed by those files' content too.
 * Both are built under a temporary name and renamed when complete.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cacheDir, findHostKernel, run, type HostKernel } from '../cloud-init/rootfs.js';

export type AlpineSuite = 'trixie' | 'bookworm';

/** cloud-init of each suite (seen here); asserted, so a drift is noticed. */
export const ALPINE_CLOUD_INIT: Record<AlpineSuite, string> = { trixie: '25.1.4', bookworm: '22.4.2' };

/** Bump when the image steps below change (the guest files and the build script are hashed by content). */
const IMAGE_RECIPE = 1;

const HERE = fileURLToPath(new URL('./', import.meta.url));
const GUEST = join(HERE, 'guest');
const BUILD_SCRIPT = join(HERE, 'build-root.sh');

/** Where the stand-in Kubesolo tarball sits in the image (the seed's --kubesolo-url points at it). */
export const STANDIN_VERSION = 'v1.1.7';
export const STANDIN_TARBALL = `/opt/kubesolo/kubesolo-${STANDIN_VERSION}-linux-amd64-musl.tar.gz`;
/** The user the image already has, as a VM that ran an earlier seed has it (defect 5: passwd ignored). */
export const PREEXISTING_USER = 'alpine';

/** Files from guest/ into the image: [path in the guest, file, mode]. */
const GUEST_FILES: Array<[string, string, number]> = [
  ['/etc/inittab', 'inittab', 0o644],
  ['/etc/init.d/cloud-init-local', 'cloud-init-local', 0o755],
  ['/etc/init.d/cloud-init', 'cloud-init', 0o755],
  ['/etc/init.d/cloud-config', 'cloud-config', 0o755],
  ['/etc/init.d/cloud-final', 'cloud-final', 0o755],
  ['/etc/init.d/sshd', 'sshd', 0o755],
  ['/etc/init.d/qemu-guest-agent', 'qemu-guest-agent', 0o755],
  ['/etc/init.d/networking', 'networking', 0o755],
  ['/etc/init.d/localmount', 'localmount', 0o755],
  ['/etc/init.d/qks-ready', 'qks-ready', 0o755],
  ['/sbin/apk', 'apk', 0o755],
  ['/etc/cloud/cloud.cfg', 'cloud.cfg', 0o644],
  ['/etc/cloud/cloud.cfg.d/90-qks-harness.cfg', '90-qks-harness.cfg', 0o644],
  ['/etc/hosts', 'hosts', 0o644],
  ['/etc/network/interfaces', 'interfaces', 0o644],
  ['/etc/apk/repositories', 'repositories', 0o644],
];

/** Debian's services that Alpine's image does not run (the seed's runcmd or our scripts stand in). */
const REMOVED_SERVICES = ['ssh', 'qemu-guest-agent', 'cloud-init-local', 'cloud-init-main', 'cloud-config', 'cloud-final', 'rc.local', 'rmnologin', 'bootlogs'];
/** Runlevels as Alpine's setup-cloud-init leaves them (sysinit stays Debian's: udev, mountall...). */
const RUNLEVELS: Record<string, string[]> = {
  boot: ['localmount', 'networking', 'cloud-init-local'],
  default: ['cloud-init', 'cloud-config', 'cloud-final', 'qks-ready'],
};
/** busybox applets Alpine has where this image has no other command. */
const BUSYBOX_LINKS = ['/sbin/init', '/bin/ash', '/sbin/reboot', '/sbin/poweroff', '/sbin/halt', '/sbin/route'];
/** ifupdown-ng under Alpine's names (Debian calls them ifup-ng...; cloud-init's eni renderer looks for these). */
const IFUPDOWN_LINKS = ['/sbin/ifup', '/sbin/ifdown', '/sbin/ifquery'];
/** Debian sysinit scripts this guest does not need (no RTC setting, no NFS, no fsck of a fresh image): a shorter boot. */
const SYSINIT_DROPPED = ['hwclock.sh', 'brightness', 'checkfs.sh', 'mountnfs.sh', 'mountnfs-bootclean.sh', 'kmod'];

const sha = (v: unknown): string => createHash('sha256').update(JSON.stringify(v)).digest('hex').slice(0, 16);

export function rootKey(suite: AlpineSuite): string {
  return sha({ suite, script: readFileSync(BUILD_SCRIPT, 'utf8') });
}

export function imageKey(suite: AlpineSuite, kernel: HostKernel): string {
  const files = GUEST_FILES.map(([path, name, mode]) => [path, mode, readFileSync(join(GUEST, name), 'utf8')]);
  return sha({
    root: rootKey(suite), kernel: kernel.version, files, standin: readFileSync(join(GUEST, 'kubesolo-standin.py'), 'utf8'),
    removed: REMOVED_SERVICES, runlevels: RUNLEVELS, links: [BUSYBOX_LINKS, IFUPDOWN_LINKS], sysinit: SYSINIT_DROPPED, recipe: IMAGE_RECIPE,
  });
}

export interface AlpineImage {
  suite: AlpineSuite;
  image: string;
  kernel: HostKernel;
  rootSeconds: number;
  imageSeconds: number;
}

async function ensureRoot(suite: AlpineSuite, env: NodeJS.ProcessEnv): Promise<{ root: string; seconds: number }> {
  const dir = cacheDir(env);
  const root = join(dir, `alpine-root-${suite}-${rootKey(suite)}`);
  if (existsSync(join(root, '.qks-complete'))) return { root, seconds: 0 };
  mkdirSync(dir, { recursive: true });
  const tmp = await mkdtemp(join(dir, `.building-alpine-${suite}-`));
  const started = performance.now();
  try {
    await run('sh', [BUILD_SCRIPT, suite, join(tmp, 'root')], 1_500_000);
    await writeFile(join(tmp, 'root', '.qks-complete'), rootKey(suite));
    try {
      await rename(join(tmp, 'root'), root);
    } catch (e) {
      if (!existsSync(join(root, '.qks-complete'))) throw e; // another run finished first: keep theirs
    }
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
  return { root, seconds: (performance.now() - started) / 1000 };
}

/** The stand-in Kubesolo as a release-shaped tarball: one file "kubesolo" inside. */
async function packStandin(staging: string): Promise<void> {
  const work = await mkdtemp(join(staging, 'tmp', 'qks-standin-'));
  await writeFile(join(work, 'kubesolo'), await readFile(join(GUEST, 'kubesolo-standin.py')), { mode: 0o755 });
  await mkdir(join(staging, STANDIN_TARBALL, '..'), { recursive: true });
  await run('tar', ['-czf', join(staging, STANDIN_TARBALL), '-C', work, 'kubesolo'], 60_000);
  await rm(work, { recursive: true, force: true });
}

/** Builds (or reuses) the bootable image of the Alpine-shaped guest. */
export async function ensureAlpineImage(suite: AlpineSuite = 'trixie', env: NodeJS.ProcessEnv = process.env): Promise<AlpineImage> {
  const kernel = findHostKernel();
  if (typeof kernel === 'string') throw new Error(kernel);
  const { root, seconds: rootSeconds } = await ensureRoot(suite, env);
  const dir = cacheDir(env);
  const image = join(dir, `alpine-image-${suite}-${imageKey(suite, kernel)}.ext4`);
  if (existsSync(image)) return { suite, image, kernel, rootSeconds, imageSeconds: 0 };
  const started = performance.now();
  const tmp = await mkdtemp(join(dir, `.image-alpine-${suite}-`));
  try {
    const s = join(tmp, 'root');
    await run('cp', ['-a', root, s], 300_000);
    await rm(join(s, '.qks-complete'));
    await mkdir(join(s, 'lib/modules'), { recursive: true });
    await run('cp', ['-a', kernel.modules, join(s, 'lib/modules/')], 300_000);
    for (const svc of REMOVED_SERVICES) {
      await rm(join(s, 'etc/init.d', svc), { force: true });
      for (const level of readdirSync(join(s, 'etc/runlevels'))) await rm(join(s, 'etc/runlevels', level, svc), { force: true });
    }
    for (const [path, name, mode] of GUEST_FILES) {
      await mkdir(join(s, path, '..'), { recursive: true });
      await rm(join(s, path), { force: true });
      await writeFile(join(s, path), await readFile(join(GUEST, name)));
      await chmod(join(s, path), mode);
    }
    for (const [level, services] of Object.entries(RUNLEVELS)) {
      await mkdir(join(s, 'etc/runlevels', level), { recursive: true });
      for (const svc of services) await symlink(`/etc/init.d/${svc}`, join(s, 'etc/runlevels', level, svc));
    }
    for (const link of BUSYBOX_LINKS) {
      await rm(join(s, link), { force: true });
      await symlink('/bin/busybox', join(s, link));
    }
    for (const link of IFUPDOWN_LINKS) {
      await rm(join(s, link), { force: true });
      await symlink('/usr/sbin/ifupdown-ng', join(s, link));
    }
    for (const svc of SYSINIT_DROPPED) await rm(join(s, 'etc/runlevels/sysinit', svc), { force: true });
    await symlink('/usr/sbin/qemu-ga', join(s, 'usr/bin/qemu-ga')); // Alpine's path
    // Alpine's base files: no resolv.conf, no host keys, hostname "localhost"
    await rm(join(s, 'etc/resolv.conf'), { force: true });
    for (const f of readdirSync(join(s, 'etc/ssh'))) if (f.startsWith('ssh_host_')) await rm(join(s, 'etc/ssh', f));
    await writeFile(join(s, 'etc/hostname'), 'localhost\n');
    await run('chroot', [s, 'groupadd', '-f', 'wheel'], 60_000);
    await run('chroot', [s, 'useradd', '-m', '-s', '/bin/ash', PREEXISTING_USER], 60_000);
    await run('chroot', [s, 'passwd', '-l', PREEXISTING_USER], 60_000);
    await packStandin(s);
    const kib = Number((await run('du', ['-sk', s], 120_000)).split(/\s/)[0]);
    await run('mkfs.ext4', ['-q', '-F', '-L', 'root', '-d', s, join(tmp, 'img'), `${Math.ceil(kib / 1024 + 512)}M`], 600_000);
    await rename(join(tmp, 'img'), image);
    for (const old of readdirSync(dir)) {
      if (old.startsWith(`alpine-image-${suite}-`) && join(dir, old) !== image) await rm(join(dir, old), { force: true });
    }
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
  return { suite, image, kernel, rootSeconds, imageSeconds: (performance.now() - started) / 1000 };
}
