/** doctor: the cidata ISO's SELinux label lets QEMU read it. */
import { execFile } from 'node:child_process';
import { readFile, stat } from 'node:fs/promises';
import { promisify } from 'node:util';
import { selinuxLabelCommands, SELINUX_ISO_TYPE } from '../../iso/selinux.js';
import { skipped, type Check } from '../types.js';

const execFileP = promisify(execFile);

/** A file's SELinux context via coreutils stat, else getfattr; undefined when it has none. */
async function readSelinuxContext(path: string): Promise<string | undefined> {
  try {
    const { stdout } = await execFileP('stat', ['-c', '%C', path], { timeout: 5000 });
    const c = stdout.trim();
    if (c && c !== '?') return c;
  } catch {
    // fall through
  }
  try {
    const { stdout } = await execFileP('getfattr', ['--absolute-names', '--only-values', '-n', 'security.selinux', path], { timeout: 5000 });
    return stdout.replace(/\0/g, '').trim() || undefined;
  } catch {
    return undefined;
  }
}

/** Types QEMU may read under sVirt: ours, libvirt's image type, and the per-VM label libvirt sets. */
const READABLE_TYPES = [SELINUX_ISO_TYPE, 'virt_image_t', 'svirt_image_t'];

export const isoSelinuxCheck: Check = {
  id: 'iso-selinux',
  title: 'ISO SELinux label',
  async run(s) {
    const iso = s.options.iso;
    if (!iso) return skipped('no --iso given');
    try {
      await stat(iso);
    } catch (e) {
      return { status: 'fail', detail: `${iso}: ${(e as NodeJS.ErrnoException).code}`, fix: 'Make it with qemu-kubesolo artifacts --create-iso, or fix --iso.' };
    }
    let enforce: string;
    try {
      enforce = (await readFile(s.at('/sys/fs/selinux/enforce'), 'utf8')).trim();
    } catch {
      return skipped('SELinux is not enabled on this host: no label needed');
    }
    const context = await (s.options.selinuxContext ?? readSelinuxContext)(iso);
    const type = context?.split(':')[2];
    const data = { context, enforcing: enforce === '1' };
    if (type && READABLE_TYPES.includes(type)) return { status: 'ok', detail: `${iso}: ${context}`, data };
    const fix = `Label it (as root): ${selinuxLabelCommands(iso).join(' && ')}`;
    const detail = `${iso}: ${context ?? 'no SELinux context'} — QEMU (svirt) cannot read it unless its type is ${SELINUX_ISO_TYPE}`;
    return enforce === '1' ? { status: 'fail', detail, fix, data } : { status: 'warn', detail: `${detail} (SELinux permissive now)`, fix, data };
  },
};
