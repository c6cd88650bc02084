/** doctor: the agent answers guest-ping, over whichever transport openAgent chose. */
import { STANDARD_CHANNEL } from '../../libvirt/channel-names.js';
import type { Check } from '../types.js';

export const agentCheck: Check = {
  id: 'agent',
  title: 'agent answering',
  async run(s) {
    const a = await s.agent();
    if (a.ok) {
      const t = a.value.client.transportInfo;
      const where = [t.channel, t.socketPath ?? t.uri].filter(Boolean).join(' at ');
      return { status: 'ok', detail: `guest-ping answered over ${t.kind}${where ? ` (${where})` : ''} in ${a.value.ms} ms`, data: { transport: t, ms: a.value.ms } };
    }
    const e = a.error;
    const data = { code: e.code, ...e.details };
    if (e.code === 'SOCKET_HELD') {
      return {
        status: 'fail',
        detail: `${e.message} [SOCKET_HELD]`,
        fix: `${e.hint ?? ''} To see who holds it: ss -xp | grep <socket inode> (libvirtd holds ${STANDARD_CHANNEL} while qemu-ga runs).`.trim(),
        data,
      };
    }
    const fixes: Partial<Record<string, string>> = {
      AGENT_TIMEOUT: 'In the guest: rc-service qemu-guest-agent-kubesolo status (Alpine) / systemctl status qemu-guest-agent; check /var/log/qemu-ga-kubesolo.log.',
      SOCKET_NOT_FOUND: 'Start the VM, or fix --socket / --vm-name.',
    };
    return { status: 'fail', detail: `${e.message} [${e.code}]`, fix: e.hint ?? fixes[e.code] ?? 'Run with --verbose and see the agent client error.', data };
  },
};
