/**
 * doctor's API readiness lines: `GET /readyz` and the node's Ready condition, asked
 * with the kubeconfig's own CA and client credentials at the --api-server address — the same requests
 * `kubeconfig --ready` waits on (src/kubeconfig/ready.ts), made once, no waiting.
 */
import { platformSignal } from '../../cancel.js';
import { isQksError, type QksError } from '../../errors.js';
import { Agent } from 'node:https';
import { apiAuthFailed } from '../../kubeconfig/errors.js';
import { apiGet, endpointFor, readyNode, summarise, type ApiEndpoint, type ApiReply } from '../../kubeconfig/ready.js';
import { parseApiAddress, rewriteServerUrl } from '../../kubeconfig/rewrite.js';
import { parseKubeconfig } from '../../kubeconfig/yaml-library.js';
import { verifyCluster } from '../../kubeconfig/tls.js';
import { TIMEOUTS } from '../../timeouts.js';
import type { DoctorState } from '../state.js';
import { skipped, type Check, type CheckOutcome } from '../types.js';

type Probe =
  | { skip: string }
  | { error: QksError; ep: ApiEndpoint }
  | { ep: ApiEndpoint; readyz: ApiReply | { failure: string }; nodes?: ApiReply | { failure: string }; ms: { readyz: number; nodes?: number } };

/** One probe per doctor run, shared by both lines. */
const probes = new WeakMap<DoctorState, Promise<Probe>>();

async function probe(s: DoctorState): Promise<Probe> {
  const raw = s.apiServer();
  if (!raw) return { skip: 'no --api-server (or KUBECONFIG_API_ADDRESS) given' };
  const addr = parseApiAddress(raw);
  if (!addr) return { skip: 'the address is not valid (see "API server reachable")' };
  const kc = await s.kubeconfig();
  if (!kc.ok) return { skip: 'the kubeconfig cannot be read from the guest (see "kubeconfig in the guest"), so its credentials are unknown' };
  const timeoutMs = s.options.tcpTimeoutMs ?? TIMEOUTS.doctorApiMs;
  let ep: ApiEndpoint;
  try {
    const parsed = parseKubeconfig(kc.value).config;
    const cluster = parsed.clusters[0]!;
    const server = rewriteServerUrl(cluster.cluster.server, addr);
    // the certificate may name the address only through tls-server-name: the check before says which
    const tls = await verifyCluster({ ...cluster.cluster, server }, { rewritten: true, timeoutMs });
    if (tls.reason === 'unreachable' || tls.reason === 'handshake-failed') return { skip: `${server}: ${tls.detail.replace(/; written unverified$/, '')} (see "API server reachable")` };
    const clusters = parsed.clusters.map((c, i) => (i === 0 ? { ...c, cluster: { ...c.cluster, server, ...(tls.tlsServerName ? { 'tls-server-name': tls.tlsServerName } : {}) } } : c));
    ep = endpointFor({ ...parsed, clusters });
  } catch (e) {
    if (!isQksError(e)) throw e;
    return { skip: `${e.message} (see "API certificate valid for the address")` };
  }
  if (!ep.cert && !ep.token) return { skip: 'the kubeconfig carries no client certificate or token to ask with' };
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const signal = s.options.signal ? AbortSignal.any([platformSignal(s.options.signal), AbortSignal.timeout(timeoutMs * 2)]) : AbortSignal.timeout(timeoutMs * 2);
  const get = async (path: string) => {
    const t0 = performance.now();
    const r = await apiGet(ep, path, { agent, signal, connectMs: timeoutMs, requestMs: timeoutMs }).catch((e: NodeJS.ErrnoException) => ({ failure: `${e.code ?? ''} ${e.message}`.trim() }));
    return { r, ms: Math.round(performance.now() - t0) };
  };
  try {
    const readyz = await get('/readyz');
    if ('status' in readyz.r && (readyz.r.status === 401 || readyz.r.status === 403)) return { error: apiAuthFailed(ep, '/readyz', String(readyz.r.status)), ep };
    const nodes = 'status' in readyz.r ? await get('/api/v1/nodes') : undefined;
    return { ep, readyz: readyz.r, ms: { readyz: readyz.ms, ...(nodes ? { nodes: nodes.ms } : {}) }, ...(nodes ? { nodes: nodes.r } : {}) };
  } finally {
    agent.destroy();
  }
}

const shared = (s: DoctorState) => {
  let p = probes.get(s);
  if (!p) probes.set(s, (p = probe(s)));
  return p;
};

const KUBESOLO_LOG = 'Look at /var/log/kubesolo.err in the guest; a first boot takes 2-3 minutes.';

export const apiReadyzCheck: Check = {
  id: 'api-readyz',
  title: 'API server ready (/readyz)',
  async run(s): Promise<CheckOutcome> {
    const p = await shared(s);
    if ('skip' in p) return skipped(p.skip);
    const at = `${p.ep.host}:${p.ep.port}`;
    if ('error' in p) return { status: 'fail', detail: `${p.error.message} [${p.error.code}]`, ...(p.error.hint ? { fix: p.error.hint } : {}), data: { code: p.error.code } };
    const r = p.readyz;
    if ('failure' in r) return { status: 'fail', detail: `GET https://${at}/readyz: ${r.failure}`, fix: KUBESOLO_LOG };
    const data = { status: r.status, ms: p.ms.readyz };
    if (r.status === 200) return { status: 'ok', detail: `GET https://${at}/readyz: 200 in ${p.ms.readyz} ms (as user ${p.ep.user})`, data };
    return { status: 'fail', detail: `GET https://${at}/readyz: ${r.status} ${summarise(r.body)}`, fix: KUBESOLO_LOG, data };
  },
};

export const nodeReadyCheck: Check = {
  id: 'node-ready',
  title: 'node Ready',
  async run(s): Promise<CheckOutcome> {
    const p = await shared(s);
    if ('skip' in p) return skipped(p.skip);
    if ('error' in p || !p.nodes) return skipped('the API server does not answer (see "API server ready")');
    const r = p.nodes;
    if ('failure' in r) return { status: 'fail', detail: `GET /api/v1/nodes: ${r.failure}`, fix: KUBESOLO_LOG };
    if (r.status !== 200) return { status: 'fail', detail: `GET /api/v1/nodes: ${r.status} ${summarise(r.body)}`, fix: KUBESOLO_LOG };
    const n = readyNode(r.body);
    if ('ready' in n) return { status: 'ok', detail: `node ${n.ready} is Ready`, data: { node: n.ready, ms: p.ms.nodes } };
    return { status: 'fail', detail: n.waiting, fix: 'The kubelet has not reported Ready yet: wait, or look at /var/log/kubesolo.err in the guest (CNI, cgroups).' };
  },
};
