/** doctor: where libvirt put the VM's channel sockets (which layout). */
import { dirname } from 'node:path';
import { PERMISSION_HINT } from '../../agent/errors.js';
import { DEDICATED_CHANNEL, STANDARD_CHANNEL } from '../../libvirt/channel-names.js';
import type { ChannelSource } from '../../libvirt/channels.js';
import { accessFix } from '../identity.js';
import { skipped, type Check } from '../types.js';

const LAYOUTS: Record<ChannelSource, string> = {
  'status-xml': "the domain's live status XML",
  'state-dir': 'libvirt ≥ 9.2 layout (/run/libvirt/qemu/channel/<id>-<name>/)',
  'lib-dir-id': 'libvirt 2016–9.1 layout (/var/lib/libvirt/qemu/channel/target/domain-<id>-<name>/)',
  'lib-dir-name': 'libvirt 2015–2016 layout (/var/lib/libvirt/qemu/channel/target/domain-<name>/)',
  'lib-flat': 'old flat layout (/var/lib/libvirt/qemu/channel/target/<name>.<channel>)',
};

export const channelDirCheck: Check = {
  id: 'channel-dir',
  title: 'channel directory',
  async run(s) {
    if (s.options.socket) return skipped(`--socket ${s.options.socket} given: no discovery needed`);
    if (s.uri.transport !== 'unix') return skipped(`${s.uri.raw} is a remote hypervisor: see "SSH hop"`);
    const d = await s.discovery();
    if (!d.ok) return { status: 'fail', detail: d.error.message, ...(d.error.hint ? { fix: d.error.hint } : {}) };
    const found = d.value!;
    const vm = s.options.vmName!;
    if (found.sockets.length) {
      const first = found.sockets[0]!;
      const dir = dirname(first.path);
      return { status: 'ok', detail: `${dir}/ (${LAYOUTS[first.source]})`, data: { dir, layout: first.source, domainId: first.domainId } };
    }
    if (found.denied.length) {
      const id = await s.identity();
      return {
        status: 'fail',
        detail: `permission denied reading ${found.denied.join(', ')}: the sockets of ${vm} may be there, hidden from you`,
        fix: id.ok ? accessFix(id.value) : PERMISSION_HINT,
        data: { denied: found.denied },
      };
    }
    return {
      status: 'fail',
      detail: `no guest-agent channel socket for VM ${vm} under ${s.uri.raw} (looked in ${found.searched.length} places, e.g. ${found.searched.slice(0, 3).join(', ')})`,
      fix: `Check the VM runs and is named ${vm} (virsh list --all), and that it has guest-agent channels (qemu-kubesolo domain-xml adds ${STANDARD_CHANNEL} and ${DEDICATED_CHANNEL}); or pass --socket PATH.`,
      data: { searched: found.searched },
    };
  },
};
