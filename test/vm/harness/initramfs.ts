/**
 * The test guest's initramfs, built from the host's Debian packages: busybox-static, qemu-ga with its
 * shared libraries, the kernel modules for virtio-serial and a CD-ROM, and init.sh as /init.
 *
 * Cached under .cache/vm/ (git-ignored), keyed by a hash of everything that shapes it (init script,
 * guest kubeconfig, kernel version, qemu-ga version, module list), so only the first run pays ~1 s.
 * The cpio archive is written here (newc format, fixed mtimes), not by cpio(1): same inputs, same bytes.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const HERE = dirname(fileURLToPath(import.meta.url));
export const CACHE_DIR = join(HERE, '../../../.cache/vm');
export const INIT_SCRIPT = join(HERE, 'init.sh');
/** The kubeconfig the guest writes at the Kubesolo path (server https://127.0.0.1:6443; fake credentials). */
export const GUEST_KUBECONFIG = join(HERE, 'guest-admin.kubeconfig');
export const GUEST_KUBECONFIG_PATH = '/var/lib/kubesolo/pki/admin/admin.kubeconfig';

/** Bump when the archive's layout changes in a way the hashed inputs do not show. */
const FORMAT = 1;

const MODULES = [
  'virtio_pci', 'virtio_console', // virtio-serial agent channels
  'ahci', 'ata_piix', 'ata_generic', 'sr_mod', 'cdrom', 'isofs', // SATA (q35) / IDE (pc) CD-ROM, ISO 9660
  'virtio_blk', 'virtio_scsi', // disks, for callers that attach one
];
const BUSYBOX_APPLETS = [
  'sh', 'mount', 'umount', 'mkdir', 'cat', 'ls', 'sleep', 'usleep', 'insmod', 'echo', 'sha256sum', 'wc', 'grep',
  'ln', 'stat', 'find', 'cp', 'mv', 'rm', 'cut', 'tr', 'dd', 'sort', 'basename', 'sed', 'poweroff', 'ps', 'kill',
  'head', 'tail', 'true', 'false', 'test', '[', 'id', 'touch', 'chmod', 'env', 'printf', 'hexdump', 'od',
];

export interface TestKernel {
  version: string;
  vmlinuz: string;
}

/** The newest kernel that has both /boot/vmlinuz-V and /lib/modules/V. */
export function testKernel(): TestKernel {
  const versions = existsSync('/lib/modules') ? readdirSync('/lib/modules') : [];
  const usable = versions.filter((v) => existsSync(`/boot/vmlinuz-${v}`)).sort(compareVersions);
  const version = usable.at(-1);
  if (!version) throw new Error('no kernel with /boot/vmlinuz-V and /lib/modules/V (apt-get install linux-image-amd64)');
  return { version, vmlinuz: `/boot/vmlinuz-${version}` };
}

function compareVersions(a: string, b: string): number {
  return a.localeCompare(b, 'en', { numeric: true });
}

function qemuGaVersion(): string {
  return execFileSync('/usr/sbin/qemu-ga', ['-V'], { encoding: 'utf8' }).trim();
}

/** Why the initramfs cannot be built here, or undefined when it can. */
export function missingInitramfsInputs(): string | undefined {
  for (const f of ['/bin/busybox', '/usr/sbin/qemu-ga']) if (!existsSync(f)) return `missing ${f} (apt-get install busybox-static qemu-guest-agent)`;
  try {
    testKernel();
  } catch (e) {
    return (e as Error).message;
  }
  return undefined;
}

/** Module files (relative to /lib/modules/V) in load order: each module after its dependencies. */
export function moduleLoadOrder(modulesDep: string, wanted: readonly string[]): string[] {
  const byName = new Map<string, { path: string; deps: string[] }>();
  for (const line of modulesDep.split('\n')) {
    const m = /^([^:]+):\s*(.*)$/.exec(line);
    if (!m) continue;
    const path = m[1]!;
    byName.set(moduleName(path), { path, deps: m[2]!.split(/\s+/).filter(Boolean).map(moduleName) });
  }
  const order: string[] = [];
  const seen = new Set<string>();
  const visit = (name: string) => {
    if (seen.has(name)) return;
    seen.add(name);
    const mod = byName.get(name);
    if (!mod) return; // built into the kernel, or absent: nothing to load
    mod.deps.forEach(visit);
    order.push(mod.path);
  };
  wanted.map((w) => w.replace(/-/g, '_')).forEach(visit);
  return order;
}

function moduleName(path: string): string {
  return path.replace(/^.*\//, '').replace(/\.ko(\.\w+)?$/, '').replace(/-/g, '_');
}

/** Shared libraries a binary loads, as ldd resolves them (absolute paths). */
function sharedLibraries(binary: string): string[] {
  const out = execFileSync('ldd', [binary], { encoding: 'utf8' });
  return [...out.matchAll(/(\/\S+)\s+\(0x/g)].map((m) => m[1]!);
}

type Entry = { kind: 'file'; data: Buffer; mode: number } | { kind: 'dir'; mode: number } | { kind: 'symlink'; target: string };

/** An in-memory tree that becomes a newc cpio archive. */
class Tree {
  readonly entries = new Map<string, Entry>();

  private parents(path: string): void {
    const parts = path.split('/').filter(Boolean);
    for (let i = 1; i < parts.length; i++) {
      const p = parts.slice(0, i).join('/');
      if (!this.entries.has(p)) this.entries.set(p, { kind: 'dir', mode: 0o755 });
    }
  }

  dir(path: string): void {
    const p = path.replace(/^\/+/, '');
    this.parents(p);
    this.entries.set(p, { kind: 'dir', mode: 0o755 });
  }

  file(path: string, data: Buffer | string, mode = 0o644): void {
    const p = path.replace(/^\/+/, '');
    this.parents(p);
    this.entries.set(p, { kind: 'file', data: Buffer.from(data), mode });
  }

  /** Copies a host file (following symlinks) to the same path in the tree. */
  copy(hostPath: string, treePath = hostPath): void {
    const real = realpathSync(hostPath);
    this.file(treePath, readFileSync(real), statSync(real).mode & 0o7777);
  }

  symlink(path: string, target: string): void {
    const p = path.replace(/^\/+/, '');
    this.parents(p);
    this.entries.set(p, { kind: 'symlink', target });
  }

  /** newc ("070701") records, sorted by path so parents come first; trailer last. */
  cpio(): Buffer {
    const chunks: Buffer[] = [];
    let ino = 1;
    const pad4 = (n: number) => Buffer.alloc((4 - (n % 4)) % 4);
    const record = (name: string, mode: number, data: Buffer, nlink: number) => {
      const hex = (n: number) => n.toString(16).padStart(8, '0');
      const nameBytes = Buffer.from(name + '\0');
      const header = Buffer.from(
        '070701' + [ino++, mode, 0, 0, nlink, 0, data.length, 0, 0, 0, 0, nameBytes.length, 0].map(hex).join(''),
        'ascii',
      );
      chunks.push(header, nameBytes, pad4(header.length + nameBytes.length), data, pad4(data.length));
    };
    for (const path of [...this.entries.keys()].sort()) {
      const e = this.entries.get(path)!;
      if (e.kind === 'dir') record(path, 0o040000 | e.mode, Buffer.alloc(0), 2);
      else if (e.kind === 'file') record(path, 0o100000 | e.mode, e.data, 1);
      else record(path, 0o120777, Buffer.from(e.target), 1);
    }
    record('TRAILER!!!', 0, Buffer.alloc(0), 1);
    return Buffer.concat(chunks);
  }
}

/** The archive's contents, from the host's files. Pure apart from reading them. */
function buildTree(kernel: TestKernel, modules: string[]): Tree {
  const t = new Tree();
  for (const d of ['proc', 'sys', 'dev', 'tmp', 'run', 'var/log', 'var/run', 'mnt/cidata', 'etc', 'sbin', 'usr/bin']) t.dir(d);
  t.copy('/bin/busybox', '/bin/busybox');
  for (const a of BUSYBOX_APPLETS) t.symlink(`bin/${a}`, 'busybox');
  t.copy('/usr/sbin/qemu-ga');
  for (const lib of sharedLibraries('/usr/sbin/qemu-ga')) t.copy(lib);
  for (const m of modules) t.copy(`/lib/modules/${kernel.version}/${m}`);
  t.file('etc/qks/modules', modules.map((m) => `/lib/modules/${kernel.version}/${m}\n`).join(''));
  t.file('etc/qks/admin.kubeconfig', readFileSync(GUEST_KUBECONFIG), 0o600);
  t.file('etc/passwd', 'root:x:0:0:root:/:/bin/sh\n');
  t.file('etc/group', 'root:x:0:\n');
  t.file('init', readFileSync(INIT_SCRIPT), 0o755);
  return t;
}

export interface InitramfsInfo {
  path: string;
  kernel: TestKernel;
  qemuGaVersion: string;
  /** True when this call built it (false: served from the cache). */
  built: boolean;
  bytes: number;
  ms: number;
}

/** Builds (or reuses from .cache/vm/) the test initramfs; returns its path and what went in. */
export async function buildTestInitramfsInfo(): Promise<InitramfsInfo> {
  const started = performance.now();
  const missing = missingInitramfsInputs();
  if (missing) throw new Error(`cannot build the test initramfs: ${missing}`);
  const kernel = testKernel();
  const gaVersion = qemuGaVersion();
  const modules = moduleLoadOrder(readFileSync(`/lib/modules/${kernel.version}/modules.dep`, 'utf8'), MODULES);
  const key = createHash('sha256')
    .update(JSON.stringify({ FORMAT, kernel: kernel.version, gaVersion, modules, applets: BUSYBOX_APPLETS }))
    .update(readFileSync(INIT_SCRIPT))
    .update(readFileSync(GUEST_KUBECONFIG))
    .digest('hex')
    .slice(0, 16);
  const path = join(CACHE_DIR, `initramfs-${key}.cpio.gz`);
  let built = false;
  if (!existsSync(path)) {
    const data = gzipSync(buildTree(kernel, modules).cpio(), { level: 6 });
    mkdirSync(CACHE_DIR, { recursive: true });
    // temp + rename: parallel test files may build at once; each sees a whole archive or none
    const tmp = `${path}.${process.pid}.tmp`;
    writeFileSync(tmp, data);
    renameSync(tmp, path);
    built = true;
    // older builds (other inputs) are dead weight now
    for (const f of readdirSync(CACHE_DIR)) {
      if (/^initramfs-[0-9a-f]{16}\.cpio\.gz$/.test(f) && join(CACHE_DIR, f) !== path) rmSync(join(CACHE_DIR, f), { force: true });
    }
  }
  return { path, kernel, qemuGaVersion: gaVersion, built, bytes: statSync(path).size, ms: performance.now() - started };
}

/** The test initramfs's path (built on first use, then cached). */
export async function buildTestInitramfs(): Promise<string> {
  return (await buildTestInitramfsInfo()).path;
}
