/** doctor: who you are, and which sockets that lets you open. */
import { accessFix } from '../identity.js';
import type { Check } from '../types.js';

export const identityCheck: Check = {
  id: 'identity',
  title: 'who you are',
  async run(s) {
    const f = await s.identity();
    if (!f.ok) return { status: 'warn', detail: `cannot tell: ${f.error.message}` };
    const id = f.value;
    const who = `${id.user} (uid ${id.uid}; groups ${id.groups.join(', ') || 'none'})`;
    const data = { user: id.user, uid: id.uid, groups: id.groups };
    if (id.root) return { status: 'ok', detail: `${who}: root opens the channel sockets and libvirtd's socket`, data };
    if (id.qemuGroup) return { status: 'ok', detail: `${who}: the ${id.qemuGroup} group opens the channel sockets`, data };
    if (id.libvirtGroup) {
      return {
        status: 'warn',
        detail: `${who}: the libvirt group opens libvirtd's socket, not the channel sockets (those need root or the ${id.hostQemuGroup ?? 'qemu'} group)`,
        fix: 'Use --transport libvirt (through libvirtd), or run as root / join the qemu group for the direct channel.',
        data,
      };
    }
    if (s.options.socket) return { status: 'ok', detail: `${who}: not root nor in a qemu or libvirt group; fine if you own --socket`, data };
    return { status: 'warn', detail: `${who}: neither root nor in the ${id.hostQemuGroup ?? 'qemu'} or libvirt group: libvirt's channel sockets will refuse you`, fix: accessFix(id), data };
  },
};
