/**
 * The host's SELinux, as it bears on our files: RHEL and Fedora run QEMU confined by SELinux (sVirt),
 * so a seed ISO kept outside libvirt's own image directories needs the type `virt_content_t`
 * (read-only VM content) or QEMU cannot open it. Used by `iso --selinux` (src/cli/iso.ts) and doctor's
 * label check (src/doctor/checks/iso-selinux.ts).
 */
import { shellQuote } from '../shell.js';
import { TIMEOUTS } from '../timeouts.js';

/** The SELinux type for read-only content attached to VMs, such as a cidata.iso. */
export const SELINUX_ISO_TYPE = 'virt_content_t';

/** Escapes a path for the regular expression `semanage fcontext` takes. */
function regexEscape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * The commands that label `absolutePath` persistently (`semanage fcontext`, survives relabels) and
 * apply it now (`restorecon`). Run as root; `semanage` comes from policycoreutils-python-utils.
 */
export function selinuxLabelCommands(absolutePath: string): string[] {
  return [
    `semanage fcontext -a -t ${SELINUX_ISO_TYPE} ${shellQuote(regexEscape(absolutePath))}`,
    `restorecon -v ${shellQuote(absolutePath)}`,
  ];
}

/**
 * A file's SELinux context via coreutils stat, else getfattr; undefined when it has none. child_process
 * is loaded here, on use, so `iso` (which needs only the commands above) starts without it
 * (test/package/startup.test.ts).
 */
export async function readSelinuxContext(path: string): Promise<string | undefined> {
  const { execFile } = await import('node:child_process');
  const { promisify } = await import('node:util');
  const execFileP = promisify(execFile);
  try {
    const { stdout } = await execFileP('stat', ['-c', '%C', path], { timeout: TIMEOUTS.selinuxProbeMs });
    const c = stdout.trim();
    if (c && c !== '?') return c;
  } catch {
    // fall through
  }
  try {
    const { stdout } = await execFileP('getfattr', ['--absolute-names', '--only-values', '-n', 'security.selinux', path], { timeout: TIMEOUTS.selinuxProbeMs });
    return stdout.replace(/\0/g, '').trim() || undefined;
  } catch {
    return undefined;
  }
}

/** Types QEMU may read under sVirt: ours, libvirt's image type, and the per-VM label libvirt sets. */
export const QEMU_READABLE_TYPES = [SELINUX_ISO_TYPE, 'virt_image_t', 'svirt_image_t'];
