/** doctor: the cidata ISO's SELinux label lets QEMU read it. */
import { readFile, stat } from 'node:fs/promises';
import { QEMU_READABLE_TYPES, readSelinuxContext, selinuxLabelCommands, SELINUX_ISO_TYPE } from '../../host/selinux.js';
import { skipped, type Check } from '../types.js';

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
    if (type && QEMU_READABLE_TYPES.includes(type)) return { status: 'ok', detail: `${iso}: ${context}`, data };
    const fix = `Label it (as root): ${selinuxLabelCommands(iso).join(' && ')}`;
    const detail = `${iso}: ${context ?? 'no SELinux context'} — QEMU (svirt) cannot read it unless its type is ${SELINUX_ISO_TYPE}`;
    return enforce === '1' ? { status: 'fail', detail, fix, data } : { status: 'warn', detail: `${detail} (SELinux permissive now)`, fix, data };
  },
};
