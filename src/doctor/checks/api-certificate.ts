/** doctor: the API server's certificate is valid for the address. */
import { isQksError } from '../../errors.js';
import { parseApiAddress, rewriteServerUrl } from '../../kubeconfig/rewrite.js';
import { parseKubeconfig } from '../../kubeconfig/yaml-library.js';
import { verifyCluster } from '../../kubeconfig/tls.js';
import { TIMEOUTS } from '../../timeouts.js';
import { skipped, type Check } from '../types.js';

export const apiCertificateCheck: Check = {
  id: 'api-certificate',
  title: 'API certificate valid for the address',
  async run(s) {
    const raw = s.apiServer();
    if (!raw) return skipped('no --api-server (or KUBECONFIG_API_ADDRESS) given');
    const addr = parseApiAddress(raw);
    if (!addr) return skipped('the address is not valid (see "API server reachable")');
    const kc = await s.kubeconfig();
    if (!kc.ok) return skipped('the kubeconfig cannot be read from the guest (see "kubeconfig in the guest"), so its CA is unknown');
    try {
      const cluster = parseKubeconfig(kc.value).config.clusters[0]!.cluster;
      const server = rewriteServerUrl(cluster.server, addr);
      const r = await verifyCluster({ ...cluster, server }, { rewritten: true, timeoutMs: s.options.tcpTimeoutMs ?? TIMEOUTS.doctorApiMs });
      const data = { server, reason: r.reason, ...(r.tlsServerName ? { tlsServerName: r.tlsServerName } : {}) };
      if (r.reason === 'address-covered' || r.reason === 'server-name-covered') return { status: 'ok', detail: `${server}: ${r.detail}`, data };
      if (r.reason === 'tls-server-name-set') {
        return {
          status: 'warn',
          detail: `${server}: the certificate does not name ${addr.host}; kubectl verifies it only with tls-server-name: ${r.tlsServerName}`,
          fix: `qemu-kubesolo kubeconfig --api-server ${raw} sets tls-server-name for you; or give the address to Kubesolo at first boot: artifacts --api-address ${addr.host}.`,
          data,
        };
      }
      return skipped(`${server}: ${r.detail}`);
    } catch (e) {
      if (!isQksError(e)) throw e;
      return { status: 'fail', detail: `${e.message} [${e.code}]`, ...(e.hint ? { fix: e.hint } : {}), data: { code: e.code } };
    }
  },
};
