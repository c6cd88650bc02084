// --ready waits past the file until /readyz answers 200 with the kubeconfig's own
// credentials and the node is Ready. A test PKI with Kubesolo's SANs, an API-server look-alike on
// 127.0.0.x (random port) that turns ready later, the fake agent serving the kubeconfig.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { isQksError, type QksError } from '../../src/errors.js';
import { getKubeconfig } from '../../src/kubeconfig/get.js';
import { resolveKubeconfigOptions } from '../../src/kubeconfig/options.js';
import { describeWithPeers } from '../helpers/peers.js';
import { apiServerFixture, kubesoloKubeconfig, startApiServer, startSilentListener } from './builders.js';

describeWithPeers('kubeconfig --ready against an API-server look-alike', ['openssl'], () => {
  const fx = apiServerFixture('qks-kc-ready-');

  const run = (socket: string, apiServer: string, out: string, extra: Parameters<typeof resolveKubeconfigOptions>[0] = {}) => {
    const lines: string[] = [];
    const o = resolveKubeconfigOptions({ socket, apiServer, output: out, timeoutSec: '60', ready: true, ...extra }, { HOME: fx.dir });
    const events = { info: (m: string) => lines.push(m), progress: (m: string) => lines.push(m), warn: (m: string) => lines.push(m), verbose: () => {} };
    return { lines, result: getKubeconfig(o, 'kubesolo', { env: { HOME: fx.dir }, events }) };
  };

  it('waits through 503 and NotReady, then writes; every stage named and timed', async () => {
    const { api, agent } = await fx.serve({ readyAfterMs: 1200, nodeReadyAfterMs: 2500 });
    const out = join(fx.dir, 'ready');
    const { lines, result } = run(agent.socketPath, `127.0.0.1:${api.port}`, out);
    const r = await result;
    expect(r.node).toBe('kubesolo');
    expect(Object.keys(r.stages!)).toEqual(['agent', 'file', 'tls', 'readyz', 'node']);
    for (const v of Object.values(r.stages!)) expect(v).toBeGreaterThanOrEqual(0);
    expect(r.stages!.readyz! + r.stages!.node! + r.stages!.tls!).toBeGreaterThanOrEqual(2000);
    expect(existsSync(out)).toBe(true);
    expect(api.requests.filter((q) => q === 'GET /readyz').length).toBeGreaterThan(1);
    expect(api.requests.filter((q) => q === 'GET /api/v1/nodes').length).toBeGreaterThan(1);
    const text = lines.join('\n');
    expect(text).toMatch(/waiting for \/readyz .*failing: etcd/);
    expect(text).toMatch(/waiting for node Ready .*kubesolo Ready=False \(KubeletNotReady\)/);
    expect(text).toMatch(/TLS ok after/);
    expect(text).toMatch(/node Ready ok after \d+ ms \(node kubesolo is Ready\)/);
  });

  it('an API server that never becomes ready: WAIT_TIMEOUT (exit 5) naming the stage, nothing written', async () => {
    const { api, agent } = await fx.serve({ neverReady: true });
    const out = join(fx.dir, 'never');
    const err = await run(agent.socketPath, `127.0.0.1:${api.port}`, out, { timeoutSec: '3' }).result.catch((e: QksError) => e);
    expect(isQksError(err, 'WAIT_TIMEOUT'), String(err)).toBe(true);
    expect((err as QksError).exitCode).toBe(5);
    expect((err as QksError).message).toMatch(/stage \/readyz; last: 503 failing: etcd/);
    expect(existsSync(out)).toBe(false);
  });

  it('a node that never turns Ready: the timeout names the node stage', async () => {
    const { api, agent } = await fx.serve({ nodeReadyAfterMs: 3_600_000 });
    const err = await run(agent.socketPath, `127.0.0.1:${api.port}`, join(fx.dir, 'notready'), { timeoutSec: '3' }).result.catch((e: QksError) => e);
    expect(isQksError(err, 'WAIT_TIMEOUT'), String(err)).toBe(true);
    expect((err as QksError).message).toMatch(/stage node Ready; last: kubesolo Ready=False/);
  });

  it('a client certificate from another CA: API_AUTH_FAILED (exit 7) at once, nothing written', async () => {
    // the cluster CA is right (TLS verifies), the user's certificate is another cluster's
    const b64 = (s: string) => Buffer.from(s).toString('base64');
    const served = kubesoloKubeconfig(fx.pki).replace(b64(fx.pki.clientCertPem), b64(fx.other.clientCertPem)).replace(b64(fx.pki.clientKeyPem), b64(fx.other.clientKeyPem));
    const { api, agent } = await fx.serve({}, served);
    const out = join(fx.dir, 'badcert');
    const t0 = performance.now();
    const err = await run(agent.socketPath, `127.0.0.1:${api.port}`, out).result.catch((e: QksError) => e);
    expect(isQksError(err, 'API_AUTH_FAILED'), String(err)).toBe(true);
    expect((err as QksError).exitCode).toBe(7);
    expect((err as QksError).message).toMatch(/refused the credentials of user "kubernetes-admin" \(401 Unauthorized on GET \/readyz\)/);
    expect(performance.now() - t0).toBeLessThan(20_000);
    expect(existsSync(out)).toBe(false);
  });

  it('nothing listening yet: waits (ECONNREFUSED), then the server comes up', async () => {
    const { api, agent } = await fx.serve({});
    const port = api.port;
    await api.close();
    const later = setTimeout(async () => {
      const again = await startApiServer(fx.pki, '127.0.0.1', port);
      fx.closers.push(again.close);
    }, 1500);
    try {
      const { lines, result } = run(agent.socketPath, `127.0.0.1:${port}`, join(fx.dir, 'later'));
      const r = await result;
      expect(r.node).toBe('kubesolo');
      expect(r.tls).toMatchObject({ verified: true });
      expect(lines.join('\n')).toMatch(/waiting up to \d+ s for the API server at https:\/\/127\.0\.0\.1:\d+ to answer/);
    } finally {
      clearTimeout(later);
    }
  });

  it('an address where nothing answers at all (a firewall dropping SYNs): API_UNREACHABLE at once with the fix', async () => {
    const { agent } = await fx.serve({});
    const silent = await startSilentListener('127.0.0.4');
    fx.closers.push(async () => silent.close());
    const out = join(fx.dir, 'silent');
    const t0 = performance.now();
    const err = await run(agent.socketPath, `127.0.0.4:${silent.port}`, out, { timeoutSec: '120' }).result.catch((e: QksError) => e);
    expect(isQksError(err, 'API_UNREACHABLE'), String(err)).toBe(true);
    expect((err as QksError).exitCode).toBe(7);
    expect((err as QksError).message).toMatch(/127\.0\.0\.4:\d+ is not reachable from this host \(CONNECT_TIMEOUT\)/);
    expect((err as QksError).hint).toMatch(/--api-address.*firewall.*NAT/);
    // at once: one connect bound, not the 120 s --timeout
    expect(performance.now() - t0).toBeLessThan(30_000);
    expect(existsSync(out)).toBe(false);
  });
});
