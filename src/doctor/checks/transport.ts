/** doctor: which way to the agent the target and URI mean (src/agent/connect.ts is the chooser). */
import type { Check } from '../types.js';

export const transportCheck: Check = {
  id: 'transport',
  title: 'way to the agent',
  async run(s) {
    const t = s.options.transport ?? 'auto';
    const data = { uri: s.uri.raw, transport: s.uri.transport, choice: t };
    if (s.options.socket) return { status: 'ok', detail: `--socket ${s.options.socket}: the direct transport on that socket`, data };
    const p = s.uri.params;
    if (s.uri.transport === 'ssh') {
      const proxy = p.proxy ?? 'auto';
      const helper = proxy === 'native' ? 'virt-ssh-helper' : proxy === 'netcat' ? `${p.netcat ?? 'nc'} -U ${p.socket ?? "libvirtd's socket"}` : 'virt-ssh-helper, else nc -U';
      const ways = { auto: `the dedicated channel forwarded, else libvirtd over the same connection (${helper})`, direct: 'the channel sockets, forwarded', libvirt: `libvirtd over the connection (${helper})` }[t];
      return { status: 'ok', detail: `qemu+ssh to ${s.uri.host}: ${ways}`, data: { ...data, proxy } };
    }
    if (s.uri.transport === 'tls') {
      if (t === 'direct') return { status: 'fail', detail: `--transport direct with ${s.uri.raw}: TLS reaches libvirtd, not the channel sockets`, fix: 'Use --transport auto or libvirt, or qemu+ssh:// for the channel.', data };
      return { status: 'ok', detail: `qemu+tls to ${s.uri.host}:${s.uri.port ?? 16514}: libvirtd's TLS listener, then its RPC`, data };
    }
    const ways = { auto: "the VM's channel sockets, else libvirtd's socket", direct: "the VM's channel sockets", libvirt: "libvirtd's socket" }[t];
    return { status: 'ok', detail: `${s.uri.raw} (this host): ${ways}`, data };
  },
};
