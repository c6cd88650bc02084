/**
 * What `kubeconfig --ready` adds once the API server is ready: waitUntilReady (one TLS handshake, GET
 * /readyz, GET /api/v1/nodes, with the kubeconfig's credentials) beside the same two requests made by a
 * bare Node https client on one fresh keep-alive connection, against the API-server look-alike on
 * 127.0.0.1 (test PKI with Kubesolo's SANs).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { measure, median, report } from './lib.js';
import { endpointFor, waitUntilReady, type ApiEndpoint } from '../src/kubeconfig/ready.js';
import { parseKubeconfig } from '../src/kubeconfig/yaml-library.js';
import { kubesoloKubeconfig, makePki, startApiServer } from '../test/kubeconfig/builders.js';

const dir = mkdtempSync(join(tmpdir(), 'qks-bench-ready-'));
const pki = makePki(dir, 'kubesolo');
const api = await startApiServer(pki, '127.0.0.1');

function bareGet(agent: Agent, ep: ApiEndpoint, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: ep.host, port: ep.port, path, agent, ca: ep.ca, cert: ep.cert, key: ep.key }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end();
  });
}

try {
  const ep = endpointFor(parseKubeconfig(kubesoloKubeconfig(pki, `https://127.0.0.1:${api.port}`)).config);
  const bare = await measure(
    'bare https: one handshake, GET /readyz + /api/v1/nodes',
    async () => {
      const agent = new Agent({ keepAlive: true, maxSockets: 1 });
      try {
        if ((await bareGet(agent, ep, '/readyz')) !== 200 || (await bareGet(agent, ep, '/api/v1/nodes')) !== 200) throw new Error('not ready');
      } finally {
        agent.destroy();
      }
    },
    { iterations: 60, warmup: 5 },
  );
  const ready = await measure('waitUntilReady (the --ready step)', () => waitUntilReady(ep, { timeoutMs: 10_000 }), { iterations: 60, warmup: 5 });
  report('kubeconfig --ready once the API is ready', bare, [ready]);
  console.log(`extra time --ready adds over the bare requests: ${(median(ready) - median(bare)).toFixed(3)} ms (median)`);
} finally {
  await api.close();
  rmSync(dir, { recursive: true, force: true });
}
