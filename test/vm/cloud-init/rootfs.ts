/**
 * The Debian guest of the cloud-init VM tier: a root filesystem made by debootstrap, cached outside the
 * clone (`QKS_VM_CACHE`, default /var/tmp/qemu-kubesolo-cache) under a key hashed from what went into
 * it, and an ext4 image of it (plus the host kernel's modules and the harness's guest files) made by
 * `mkfs.ext4 -d`. Also runs cloud-init's own tools (schema, net-convert) inside that root by chroot.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rename, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const execFileP = promisify(execFile);

/** Bump when the way the root or the image is made changes (the guest files are hashed by content). */
export const HARNESS_VERSION = 1;

export type Suite = 'trixie' | 'bookworm';

/** cloud-init version each suite ships (seen here); the tests assert it, so a drift is noticed. */
export const CLOUD_INIT_VERSION: Record<Suite, string> = { trixie: '25.1.4', bookworm: '22.4.2' };

/**
 * Packages on top of debootstrap's minbase. python3-cffi-backend: without it debootstrap leaves
 * cloud-init unconfigured. ifupdown: cloud-init then renders with `eni`, the renderer Alpine uses.
 * net-tools: eni's `post-up route add default gw` needs `route` (busybox has it on Alpine).
 */
export const GUEST_PACKAGES = [
  'systemd-sysv', 'udev', 'cloud-init', 'python3-cffi-backend', 'openssh-server', 'opendoas', 'sudo',
  'iproute2', 'ifupdown', 'net-tools', 'kmod', 'util-linux', 'e2fsprogs',
] as const;

const GUEST_DIR = fileURLToPath(new URL('./guest/', import.meta.url));

/** Harness files put into the image: [path in the guest, file in ./guest, mode]. */
const GUEST_FILES: Array<[string, string, number]> = [
  ['/etc/cloud/cloud.cfg.d/90-qks-harness.cfg', '90-qks-harness.cfg', 0o644],
  ['/etc/systemd/system/qks-done.service', 'qks-done.service', 0o644],
  ['/usr/local/sbin/qks-done', 'qks-done', 0o755],
  ['/etc/apt/apt.conf.d/99qks-offline', '99-qks-offline.conf', 0o644],
];

/** Units the test never needs; masked to shorten a boot that takes about a minute under TCG. */
const MASKED_UNITS = ['getty@.service', 'serial-getty@.service', 'getty-static.service', 'e2scrub_reap.service'];

export function cacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.QKS_VM_CACHE || '/var/tmp/qemu-kubesolo-cache';
}

const sha = (v: unknown): string => createHash('sha256').update(JSON.stringify(v)).digest('hex').slice(0, 16);

/** The key of the debootstrapped root: suite, package list and harness version. */
export function rootfsKey(suite: Suite): string {
  return sha({ suite, packages: GUEST_PACKAGES, harness: HARNESS_VERSION });
}

export interface HostKernel {
  version: string;
  kernel: string;
  initrd: string;
  modules: string;
}

/** The newest kernel in /boot that has an initrd and modules, or a reason why there is none. */
export function findHostKernel(): HostKernel | string {
  let names: string[];
  try {
    names = readdirSync('/boot').filter((n) => n.startsWith('vmlinuz-'));
  } catch {
    return 'no /boot directory';
  }
  const usable = names
    .map((n) => n.slice('vmlinuz-'.length))
    .filter((v) => existsSync(`/boot/initrd.img-${v}`) && existsSync(`/lib/modules/${v}`))
    .sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
  const version = usable.at(-1);
  if (!version) return 'no /boot/vmlinuz-* with a matching /boot/initrd.img-* and /lib/modules/* (install linux-image-amd64)';
  try {
    readFileSync(`/boot/vmlinuz-${version}`).subarray(0, 1);
  } catch {
    return `/boot/vmlinuz-${version} is not readable (run as root)`;
  }
  return { version, kernel: `/boot/vmlinuz-${version}`, initrd: `/boot/initrd.img-${version}`, modules: `/lib/modules/${version}` };
}

export interface GuestImage {
  suite: Suite;
  root: string;
  image: string;
  kernel: HostKernel;
  /** Seconds spent building what was missing (0 when all came from the cache). */
  debootstrapSeconds: number;
  imageSeconds: number;
}

export async function run(cmd: string, args: string[], timeoutMs: number): Promise<string> {
  try {
    const { stdout } = await execFileP(cmd, args, { timeout: timeoutMs, maxBuffer: 64 << 20, killSignal: 'SIGKILL' });
    return stdout;
  } catch (e) {
    const err = e as { stderr?: string; stdout?: string; message: string };
    throw new Error(`${cmd} ${args.join(' ')} failed: ${err.message}\n${(err.stderr ?? '').slice(-4000)}`);
  }
}

/**
 * The debootstrapped root for `suite`, built once into the cache. Built under a temporary name and
 * renamed when complete, so an interrupted build is never taken for a finished one.
 */
export async function ensureRootfs(suite: Suite, env: NodeJS.ProcessEnv = process.env): Promise<{ root: string; seconds: number }> {
  const dir = cacheDir(env);
  const root = join(dir, `rootfs-${suite}-${rootfsKey(suite)}`);
  if (existsSync(join(root, '.qks-complete'))) return { root, seconds: 0 };
  mkdirSync(dir, { recursive: true });
  const tmp = await mkdtemp(join(dir, `.building-${suite}-`));
  const started = performance.now();
  try {
    // No mirror argument: debootstrap's default mirror is the reachable one.
    await run('debootstrap', ['--variant=minbase', `--include=${GUEST_PACKAGES.join(',')}`, suite, join(tmp, 'root')], 900_000);
    await writeFile(join(tmp, 'root', '.qks-complete'), JSON.stringify({ suite, packages: GUEST_PACKAGES, harness: HARNESS_VERSION }));
    try {
      await rename(join(tmp, 'root'), root);
    } catch (e) {
      // Another run finished first: keep theirs.
      if (!existsSync(join(root, '.qks-complete'))) throw e;
    }
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
  return { root, seconds: (performance.now() - started) / 1000 };
}

/** The key of the bootable image: the root's key, the host kernel, and the harness files' content. */
export function imageKey(suite: Suite, kernel: HostKernel): string {
  const files = GUEST_FILES.map(([path, name, mode]) => [path, mode, readFileSync(join(GUEST_DIR, name), 'utf8')]);
  return sha({ root: rootfsKey(suite), kernel: kernel.version, files, masked: MASKED_UNITS });
}

/**
 * The ext4 image the VM boots (a copy of it per boot). Made from a throw-away copy of the cached root
 * with the host kernel's modules (isofs and sr_mod must load, or NoCloud finds the label but cannot
 * mount the CD-ROM) and the harness's guest files.
 */
export async function ensureGuestImage(suite: Suite = 'trixie', env: NodeJS.ProcessEnv = process.env): Promise<GuestImage> {
  const kernel = findHostKernel();
  if (typeof kernel === 'string') throw new Error(kernel);
  await removeLeftovers(cacheDir(env));
  const { root, seconds: debootstrapSeconds } = await ensureRootfs(suite, env);
  const dir = cacheDir(env);
  const image = join(dir, `image-${suite}-${imageKey(suite, kernel)}.ext4`);
  if (existsSync(image)) return { suite, root, image, kernel, debootstrapSeconds, imageSeconds: 0 };
  const started = performance.now();
  const tmp = await mkdtemp(join(dir, `.image-${suite}-`));
  try {
    const staging = join(tmp, 'root');
    await run('cp', ['-a', root, staging], 300_000);
    await mkdir(join(staging, 'lib/modules'), { recursive: true });
    await run('cp', ['-a', kernel.modules, join(staging, 'lib/modules/')], 300_000);
    for (const [path, name, mode] of GUEST_FILES) {
      await mkdir(join(staging, path, '..'), { recursive: true });
      await writeFile(join(staging, path), await readFile(join(GUEST_DIR, name)), { mode });
    }
    const wants = join(staging, 'etc/systemd/system/multi-user.target.wants');
    await mkdir(wants, { recursive: true });
    await symlink('/etc/systemd/system/qks-done.service', join(wants, 'qks-done.service'));
    for (const unit of MASKED_UNITS) await symlink('/dev/null', join(staging, 'etc/systemd/system', unit));
    await rm(join(staging, '.qks-complete'));
    // Sized to the content plus headroom; the file is sparse.
    const kib = Number((await run('du', ['-sk', staging], 120_000)).split(/\s/)[0]);
    const sizeMiB = Math.ceil(kib / 1024 + 512);
    await run('mkfs.ext4', ['-q', '-F', '-L', 'root', '-d', staging, join(tmp, 'img'), `${sizeMiB}M`], 600_000);
    await rename(join(tmp, 'img'), image);
    // Images made by older harness files or for another kernel are dead weight (about 1 GiB each).
    for (const old of readdirSync(dir)) {
      if (old.startsWith(`image-${suite}-`) && join(dir, old) !== image) await rm(join(dir, old), { force: true });
    }
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
  return { suite, root, image, kernel, debootstrapSeconds, imageSeconds: (performance.now() - started) / 1000 };
}

/**
 * Work directories of runs that were killed (a runner that died mid-boot, an interrupted build). Any
 * older than two hours cannot belong to a live run: boots are bounded at 5 min, builds at 15.
 */
async function removeLeftovers(dir: string): Promise<void> {
  if (!existsSync(dir)) return;
  const cutoff = Date.now() - 2 * 3600_000;
  for (const name of readdirSync(dir)) {
    if (!/^\.(run|building|image)-/.test(name)) continue;
    const path = join(dir, name);
    const mtime = await stat(path).then((s) => s.mtimeMs, () => Date.now());
    if (mtime < cutoff) await rm(path, { recursive: true, force: true });
  }
}

export interface ChrootResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs a command inside the cached root (cloud-init's own tools at the guest's version), with the given
 * files copied into a private directory there; `{dir}` in the arguments names that directory.
 */
export async function inChroot(root: string, files: Record<string, string>, args: string[]): Promise<ChrootResult & { outDir: string; cleanup: () => Promise<void> }> {
  const inside = await mkdtemp(join(root, 'tmp', 'qks-'));
  const dir = inside.slice(root.length);
  for (const [name, data] of Object.entries(files)) await writeFile(join(inside, name), data);
  const cleanup = () => rm(inside, { recursive: true, force: true });
  const argv = args.map((a) => a.replaceAll('{dir}', dir));
  try {
    const { stdout, stderr } = await execFileP('chroot', [root, ...argv], { timeout: 120_000, maxBuffer: 16 << 20 });
    return { code: 0, stdout, stderr, outDir: inside, cleanup };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string; message: string };
    if (typeof err.code !== 'number') {
      await cleanup();
      throw e;
    }
    return { code: err.code, stdout: err.stdout ?? '', stderr: err.stderr ?? err.message, outDir: inside, cleanup };
  }
}

/** `cloud-init schema --config-file` of the guest's cloud-init (25.x can also check a network-config). */
export async function schemaCheck(root: string, data: string, type: 'cloud-config' | 'network-config' = 'cloud-config'): Promise<ChrootResult> {
  const r = await inChroot(root, { [type]: data }, ['cloud-init', 'schema', '--schema-type', type, '--config-file', `{dir}/${type}`]);
  await r.cleanup();
  return { code: r.code, stdout: r.stdout, stderr: r.stderr };
}

/**
 * `cloud-init devel net-convert -D alpine -O eni` of the guest's cloud-init: what Alpine's renderer
 * would write for this network-config. Returns the rendered files (relative path → text).
 */
export async function netConvertAlpineEni(root: string, networkConfig: string): Promise<ChrootResult & { files: Record<string, string> }> {
  const r = await inChroot(root, { 'network-config': networkConfig }, [
    'cloud-init', 'devel', 'net-convert', '-p', '{dir}/network-config', '-k', 'yaml', '-D', 'alpine', '-O', 'eni', '-d', '{dir}/out',
  ]);
  const files: Record<string, string> = {};
  const walk = (d: string, rel: string): void => {
    if (!existsSync(d)) return;
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(d, e.name), `${rel}${e.name}/`);
      else files[`${rel}${e.name}`] = readFileSync(join(d, e.name), 'utf8');
    }
  };
  walk(join(r.outDir, 'out'), '');
  await r.cleanup();
  return { code: r.code, stdout: r.stdout, stderr: r.stderr, files };
}

/** Why the cloud-init VM tier cannot run here, or undefined (the commands are checked by describeWithPeers). */
export function vmTierMissing(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root (debootstrap, chroot, reading /boot/vmlinuz-*)';
  const kernel = findHostKernel();
  return typeof kernel === 'string' ? kernel : undefined;
}

/** Commands the tier runs on the host. */
export const VM_TIER_COMMANDS = ['qemu-system-x86_64', 'debootstrap', 'mkfs.ext4', 'e2fsck', 'debugfs', 'chroot', 'genisoimage', 'blkid', 'openssl'];
