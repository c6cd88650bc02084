// doctor's /readyz and node-Ready lines, with the kubeconfig's own credentials, against
// the API-server look-alike of test/kubeconfig/builders.ts on 127.0.0.1 and the fake agent.
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { apiReadyzCheck, nodeReadyCheck } from '../../src/doctor/checks/api-ready.js';
import { runDoctor } from '../../src/doctor/index.js';
import { startFakeAgent } from '../../src/fake-agent/index.js';
import { DEFAULT_REMOTE_PATH } from '../../src/kubeconfig/options.js';
import { describeWithPeers } from '../helpers/peers.js';
import { apiServerFixture, kubesoloKubeconfig, type ApiServerBehaviour } from '../kubeconfig/builders.js';

describeWithPeers('doctor: API ready and node Ready', ['openssl'], () => {
  let n = 0; // sockets of the tests' own extra agents (fx.serve names its own a*.sock)
  const fx = apiServerFixture('qks-doc-ready-');

  async function doctor(behaviour: ApiServerBehaviour, served?: string, apiServer?: string) {
    const { api, agent } = await fx.serve(behaviour, served);
    const r = await runDoctor({ socket: agent.socketPath, apiServer: apiServer ?? `127.0.0.1:${api.port}`, env: {}, tcpTimeoutMs: 3000 }, [apiReadyzCheck, nodeReadyCheck]);
    return Object.fromEntries(r.checks.map((c) => [c.id, c]));
  }

  it('ready and Ready: two ok lines', async () => {
    const c = await doctor({});
    expect(c['api-readyz']).toMatchObject({ status: 'ok', detail: expect.stringMatching(/\/readyz: 200 in \d+ ms \(as user kubernetes-admin\)/) });
    expect(c['node-ready']).toMatchObject({ status: 'ok', detail: 'node kubesolo is Ready' });
  });

  it('503 and NotReady: fail lines with the failing checks and a fix', async () => {
    const c = await doctor({ neverReady: true, nodeReadyAfterMs: 3_600_000 });
    expect(c['api-readyz']).toMatchObject({ status: 'fail', detail: expect.stringMatching(/503 failing: etcd/), fix: expect.stringMatching(/kubesolo\.err/) });
    expect(c['node-ready']).toMatchObject({ status: 'fail', detail: 'kubesolo Ready=False (KubeletNotReady)' });
  });

  it('credentials of another cluster: fail naming the user, node line skipped', async () => {
    const b64 = (s: string) => Buffer.from(s).toString('base64');
    const served = kubesoloKubeconfig(fx.pki).replace(b64(fx.pki.clientCertPem), b64(fx.other.clientCertPem)).replace(b64(fx.pki.clientKeyPem), b64(fx.other.clientKeyPem));
    const c = await doctor({}, served);
    expect(c['api-readyz']).toMatchObject({ status: 'fail', detail: expect.stringMatching(/refused the credentials of user "kubernetes-admin".*\[API_AUTH_FAILED\]/) });
    expect(c['node-ready']!.status).toBe('skip');
  });

  it('no --api-server: skipped', async () => {
    const agent = await startFakeAgent({ socketPath: join(fx.dir, `b${n++}.sock`), files: { [DEFAULT_REMOTE_PATH]: kubesoloKubeconfig(fx.pki) } });
    fx.closers.push(() => agent.close());
    const r = await runDoctor({ socket: agent.socketPath, env: {} }, [apiReadyzCheck, nodeReadyCheck]);
    expect(r.checks.map((x) => x.status)).toEqual(['skip', 'skip']);
  });
});
