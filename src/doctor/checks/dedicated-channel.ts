/** doctor: the dedicated channel org.qemu.guest_agent.1 is there. */
import { DEDICATED_CHANNEL, STANDARD_CHANNEL } from '../../libvirt/channel-names.js';
import { skipped, type Check } from '../types.js';
import { ADD_CHANNEL_FIX } from './common.js';

export const dedicatedChannelCheck: Check = {
  id: 'dedicated-channel',
  title: 'dedicated channel',
  async run(s) {
    const sockets = await s.sockets();
    if (s.options.socket) {
      const ch = sockets[0]?.channel;
      if (ch === DEDICATED_CHANNEL) return { status: 'ok', detail: `--socket is the dedicated channel ${DEDICATED_CHANNEL}` };
      if (ch === STANDARD_CHANNEL) return { status: 'warn', detail: `--socket is the standard channel ${STANDARD_CHANNEL}, which libvirt holds while the VM runs under it`, fix: ADD_CHANNEL_FIX };
      return skipped(`cannot tell which channel --socket ${s.options.socket} is`);
    }
    if (!sockets.length) return skipped('no channel socket found (see "channel directory")');
    const ded = sockets.find((x) => x.channel === DEDICATED_CHANNEL);
    if (ded) return { status: 'ok', detail: `${DEDICATED_CHANNEL} at ${ded.path}`, data: { path: ded.path } };
    return {
      status: 'warn',
      detail: `only ${STANDARD_CHANNEL}: libvirt keeps that socket open, so direct reads time out while libvirt runs the VM`,
      fix: ADD_CHANNEL_FIX + ' Or use --transport libvirt.',
    };
  },
};
