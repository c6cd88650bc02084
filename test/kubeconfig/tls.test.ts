// A rewritten kubeconfig that kubectl accepts. A test PKI with Kubesolo's SANs, API-server
// look-alikes on loopback addresses, the CLI fetching through the fake agent, and a real kubectl.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startFakeAgent, type FakeAgent } from '../../src/fake-agent/index.js';
import { DEFAULT_REMOTE_PATH } from '../../src/kubeconfig/options.js';
import { runCli } from '../helpers/cli.js';
import { describeWithPeers } from '../helpers/peers.js';
import { kubesoloKubeconfig, makePki, startApiServer, VERSION_REPLY } from './builders.js';

function kubectl(kubeconfig: string, home: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      'kubectl',
      ['--kubeconfig', kubeconfig, 'version', '-o', 'json', '--request-timeout=5s'],
      { env: { PATH: process.env.PATH, HOME: home, NO_PROXY: '*' }, timeout: 20_000 },
      (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describeWithPeers('kubeconfig TLS check with a real kubectl', ['openssl', 'kubectl'], () => {
  let dir: string;
  let agent: FakeAgent;
  let served: string;
  const servers: Awaited<ReturnType<typeof startApiServer>>[] = [];
  let port: number;
  let roguePort: number;
  let pki: ReturnType<typeof makePki>;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'qks-kc-tls-'));
    pki = makePki(dir, 'kubesolo');
    const other = makePki(dir, 'other');
    const a = await startApiServer(pki, '127.0.0.1');
    servers.push(a);
    port = a.port;
    servers.push(await startApiServer(pki, '127.0.0.2', port)); // same certificate, an address outside its SANs
    const rogue = await startApiServer(other, '127.0.0.3');
    servers.push(rogue);
    roguePort = rogue.port;
    served = kubesoloKubeconfig(pki);
    agent = await startFakeAgent({ socketPath: join(dir, 'qga.sock'), files: { [DEFAULT_REMOTE_PATH]: served } });
  });
  afterAll(async () => {
    await agent?.close();
    await Promise.all(servers.map((s) => s.close()));
    rmSync(dir, { recursive: true, force: true });
  });

  const fetch = (address: string, out: string, extra: string[] = []) =>
    runCli(['--json', 'kubeconfig', '--socket', agent.socketPath, '--api-server', address, '--output', out, ...extra], { env: { HOME: dir } });

  it('an address in the certificate: verified as is, kubectl works', async () => {
    const out = join(dir, 'in-sans');
    const r = await fetch(`127.0.0.1:${port}`, out);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json[0]).toMatchObject({ ok: true, server: `https://127.0.0.1:${port}`, tls: { verified: true, reason: 'address-covered' } });
    expect(readFileSync(out, 'utf8')).toBe(served.replace('https://127.0.0.1:6443', `https://127.0.0.1:${port}`));
    const k = await kubectl(out, dir);
    expect(k.code, k.stderr).toBe(0);
    expect(JSON.parse(k.stdout).serverVersion.gitVersion).toBe(VERSION_REPLY.gitVersion);
  });

  it('an address outside it: tls-server-name set, kubectl works; without it kubectl refuses', async () => {
    const out = join(dir, 'outside');
    const r = await fetch(`127.0.0.2:${port}`, out);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json[0]).toMatchObject({ tls: { verified: true, reason: 'tls-server-name-set', tlsServerName: 'kubernetes' } });
    expect(r.stderr).toMatch(/tls-server-name: kubernetes/);
    const text = readFileSync(out, 'utf8');
    expect(text).toBe(served.replace('    server: https://127.0.0.1:6443\n', `    server: https://127.0.0.2:${port}\n    tls-server-name: kubernetes\n`));
    expect(text).not.toMatch(/insecure-skip-tls-verify/);
    expect(statSync(out).mode & 0o777).toBe(0o600);
    const k = await kubectl(out, dir);
    expect(k.code, k.stderr).toBe(0);
    expect(JSON.parse(k.stdout).serverVersion.gitVersion).toBe(VERSION_REPLY.gitVersion);

    const plain = join(dir, 'outside-unfixed');
    const u = await fetch(`127.0.0.2:${port}`, plain, ['--no-verify-server']);
    expect(u.code, u.stderr).toBe(0);
    expect(u.json[0]).toMatchObject({ tls: { verified: false, reason: 'skipped' } });
    const ku = await kubectl(plain, dir);
    expect(ku.code).not.toBe(0);
    expect(ku.stderr).toMatch(/x509: certificate is valid for .*not 127\.0\.0\.2/);
  });

  it('a server with a certificate from another CA: exit 7, nothing written, old file untouched', async () => {
    const out = join(dir, 'rogue');
    writeFileSync(out, 'old contents\n', { mode: 0o644 });
    const r = await fetch(`127.0.0.3:${roguePort}`, out);
    expect(r.code).toBe(7);
    expect(r.json[0]).toMatchObject({ ok: false, error: { code: 'TLS_VERIFY_FAILED', message: expect.stringMatching(/CA did not issue/) } });
    expect(readFileSync(out, 'utf8')).toBe('old contents\n');
    // and kubectl agrees that such a kubeconfig cannot work
    const forced = join(dir, 'rogue-forced');
    expect((await fetch(`127.0.0.3:${roguePort}`, forced, ['--no-verify-server'])).code).toBe(0);
    const k = await kubectl(forced, dir);
    expect(k.code).not.toBe(0);
    expect(k.stderr).toMatch(/x509|certificate/);
  });

  it('with --wait, an API server that comes up after the kubeconfig is still checked', async () => {
    const out = join(dir, 'late-api');
    const started = performance.now();
    const run = fetch(`127.0.0.5:${port}`, out, ['--wait', '--timeout', '30']);
    let late: Awaited<ReturnType<typeof startApiServer>> | undefined;
    setTimeout(() => void startApiServer(pki, '127.0.0.5', port).then((s) => servers.push((late = s))), 1500);
    const r = await run;
    expect(r.code, r.stderr).toBe(0);
    expect(late).toBeDefined();
    expect(r.json[0]).toMatchObject({ tls: { verified: true, reason: 'tls-server-name-set', tlsServerName: 'kubernetes' } });
    expect(performance.now() - started).toBeLessThan(1500 + 1500);
    expect((await kubectl(out, dir)).code).toBe(0);
  });

  it('an unreachable address: written unverified, with a warning', async () => {
    const out = join(dir, 'unreachable');
    const r = await fetch('127.0.0.4:1', out);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json[0]).toMatchObject({ tls: { verified: false, reason: 'unreachable' } });
    expect(r.stderr).toMatch(/warning: .*did not answer.*written unverified/);
    expect(readFileSync(out, 'utf8')).toContain('server: https://127.0.0.4:1\n');
  });
});
