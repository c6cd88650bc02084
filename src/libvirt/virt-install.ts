/**
 * The `virt-install` command for a VM made from our artifacts: the guide's example, plus the two
 * guest-agent channels (the standard one libvirt uses, and the dedicated one qemu-kubesolo uses) and
 * the seed as a CD-ROM when a cidata.iso was made. Pure: options in, argv out.
 */
import { DEDICATED_CHANNEL, STANDARD_CHANNEL } from './channel-names.js';
import { shellQuote } from '../shell.js';

export interface VirtInstallOptions {
  /** Domain name (default: the hostname). */
  name: string;
  /** MiB (guide: 512). */
  memoryMiB?: number;
  vcpus?: number;
  /** The boot disk (guide: /path/to/boot.qcow2). */
  diskPath?: string;
  /** Seed as files, for `--cloud-init` (used when no ISO is given). */
  userData?: string;
  metaData?: string;
  networkConfig?: string;
  /** Seed as an ISO, attached as a CD-ROM (preferred when present: works with any virt-install). */
  isoPath?: string;
  /** `--network` value (guide: network=default). */
  network?: string;
  /**
   * `--os-variant` value. virt-install 4.x refuses to guess for --import without one; this form works
   * with any osinfo database.
   */
  osVariant?: string;
}

export const VIRT_INSTALL_DEFAULTS = {
  memoryMiB: 512,
  vcpus: 2,
  diskPath: '/path/to/boot.qcow2',
  network: 'network=default',
  osVariant: 'detect=on,require=off',
  /**
   * The boot disk's size (the guide's 8 GB). Alpine's cloud images are built about 1 GB and
   * growpart/resizefs grow the root only to a disk the host made bigger, while Kubesolo's tarball,
   * binary and installed copy coexist at install time.
   */
  diskSizeGiB: 8,
} as const;

/** `qemu-img resize DISK 8G`: run once before the first boot (virt-install --import keeps a disk's size). */
export function bootDiskResizeArgs(diskPath: string = VIRT_INSTALL_DEFAULTS.diskPath, sizeGiB: number = VIRT_INSTALL_DEFAULTS.diskSizeGiB): string[] {
  return ['resize', diskPath, `${sizeGiB}G`];
}

/** The resize as a line to paste, with why. */
export function formatBootDiskResize(args: readonly string[]): string {
  return `# grow the boot disk first (the cloud image is about 1 GB; growpart fills the disk at first boot):\nqemu-img ${args.map(shellQuote).join(' ')}`;
}

/**
 * A sub-option value: virt-install splits `a=x,b=y` with a POSIX shlex whose separator is ",", so a
 * path holding a comma, a quote, a backslash or white space goes in double quotes.
 */
function subOptionValue(value: string): string {
  return /[,"'\\\s]/.test(value) ? `"${value.replace(/["\\]/g, '\\$&')}"` : value;
}

/** The argument list (without the program name). */
export function virtInstallArgs(o: VirtInstallOptions): string[] {
  const v = subOptionValue;
  const args = [
    '--name', o.name,
    '--memory', String(o.memoryMiB ?? VIRT_INSTALL_DEFAULTS.memoryMiB),
    '--vcpus', String(o.vcpus ?? VIRT_INSTALL_DEFAULTS.vcpus),
    '--disk', `path=${v(o.diskPath ?? VIRT_INSTALL_DEFAULTS.diskPath)}`,
  ];
  if (o.isoPath) {
    args.push('--disk', `path=${v(o.isoPath)},device=cdrom`);
  } else if (o.userData) {
    const parts = [`user-data=${v(o.userData)}`];
    if (o.metaData) parts.push(`meta-data=${v(o.metaData)}`);
    if (o.networkConfig) parts.push(`network-config=${v(o.networkConfig)}`);
    args.push('--cloud-init', parts.join(','));
  }
  args.push(
    '--network', o.network ?? VIRT_INSTALL_DEFAULTS.network,
    '--channel', `unix,target_type=virtio,name=${STANDARD_CHANNEL}`,
    '--channel', `unix,target_type=virtio,name=${DEDICATED_CHANNEL}`,
    '--os-variant', o.osVariant ?? VIRT_INSTALL_DEFAULTS.osVariant,
    '--import',
    '--noautoconsole',
  );
  return args;
}

/** The command as one line a user can paste, with ` \` continuations like the guide's example. */
export function formatVirtInstall(args: readonly string[], program = 'virt-install'): string {
  const lines = [program];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const next = args[i + 1];
    if (a.startsWith('--') && next !== undefined && !next.startsWith('--')) {
      lines.push(`  ${a} ${shellQuote(next)}`);
      i++;
    } else {
      lines.push(`  ${shellQuote(a)}`);
    }
  }
  return lines.join(' \\\n');
}
