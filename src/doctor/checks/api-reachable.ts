/** doctor: a TCP connect to the API address clients will use. */
import { connect } from 'node:net';
import { parseApiAddress } from '../../kubeconfig/rewrite.js';
import { TIMEOUTS } from '../../timeouts.js';
import { skipped, type Check } from '../types.js';

export const apiReachableCheck: Check = {
  id: 'api-reachable',
  title: 'API server reachable',
  async run(s) {
    const raw = s.apiServer();
    if (!raw) return skipped('no --api-server (or KUBECONFIG_API_ADDRESS) given');
    const addr = parseApiAddress(raw);
    if (!addr) return { status: 'fail', detail: `--api-server (KUBECONFIG_API_ADDRESS) ${JSON.stringify(raw)} is not a host, host:port or https://host:port`, fix: 'e.g. --api-server 10.0.0.50 or --api-server k8s.example.com:6443' };
    const port = addr.port ?? 6443;
    const timeoutMs = s.options.tcpTimeoutMs ?? TIMEOUTS.doctorApiMs;
    const target = `${addr.host.includes(':') ? `[${addr.host}]` : addr.host}:${port}`;
    const started = performance.now();
    const r = await new Promise<{ ok: true } | { ok: false; why: string; code?: string }>((resolve) => {
      const sock = connect({ host: addr.host, port });
      const timer = setTimeout(() => {
        sock.destroy();
        resolve({ ok: false, why: `no answer within ${timeoutMs} ms`, code: 'TIMEOUT' });
      }, timeoutMs);
      sock.once('connect', () => {
        clearTimeout(timer);
        sock.destroy();
        resolve({ ok: true });
      });
      sock.once('error', (e: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        resolve({ ok: false, why: e.code === 'ECONNREFUSED' ? 'connection refused' : `${e.code ?? ''} ${e.message}`.trim(), ...(e.code ? { code: e.code } : {}) });
      });
    });
    const ms = Math.round(performance.now() - started);
    if (r.ok) return { status: 'ok', detail: `TCP connect to ${target} in ${ms} ms`, data: { host: addr.host, port, ms } };
    const fix =
      r.code === 'ECONNREFUSED'
        ? `Nothing listens on ${target}: Kubesolo is not running there yet, or a NAT/port forward to the VM's 6443 is missing.`
        : `Check the address and the route to it, and that port ${port}/tcp is open (firewall-cmd --permanent --add-port=${port}/tcp; firewall-cmd --reload), then regenerate the kubeconfig with the right --api-server.`;
    return { status: 'fail', detail: `TCP connect to ${target}: ${r.why}`, fix, data: { host: addr.host, port, code: r.code } };
  },
};
