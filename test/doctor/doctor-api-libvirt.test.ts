// doctor's API-certificate line against a real TLS server with Kubesolo's SANs, and its
// libvirtd line when no libvirtd socket is there.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runDoctor, type DoctorReport } from '../../src/doctor/index.js';
import { startFakeAgent, type FakeAgent } from '../../src/fake-agent/index.js';
import { kubesoloKubeconfig, makePki, startApiServer, type Pki } from '../kubeconfig/builders.js';
import { describeWithPeers } from '../helpers/peers.js';

const KUBECONFIG = '/var/lib/kubesolo/pki/admin/admin.kubeconfig';
const line = (r: DoctorReport, id: string) => r.checks.find((c) => c.id === id)!;

describeWithPeers('doctor: API certificate valid for the address', ['openssl'], () => {
  let dir: string;
  let pki: Pki;
  let other: Pki;
  let agent: FakeAgent;
  let api: Awaited<ReturnType<typeof startApiServer>>;
  let stranger: Awaited<ReturnType<typeof startApiServer>>;
  let outside: Awaited<ReturnType<typeof startApiServer>>;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'qks-doc-api-'));
    pki = makePki(dir, 'kubesolo');
    other = makePki(dir, 'other');
    agent = await startFakeAgent({ socketPath: join(dir, 'qga.sock'), files: { [KUBECONFIG]: kubesoloKubeconfig(pki) } });
    api = await startApiServer(pki, '127.0.0.1');
    outside = await startApiServer(pki, '127.0.0.2'); // the same certificate, at an address it does not name
    stranger = await startApiServer(other, '127.0.0.3');
  });
  afterAll(async () => {
    await agent?.close();
    await api?.close();
    await stranger?.close();
    await outside?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const doctor = (apiServer: string) => runDoctor({ socket: agent.socketPath, apiServer, env: {}, handshakeTimeoutMs: 1000 });

  it('ok for an address the certificate names', async () => {
    const r = await doctor(`127.0.0.1:${api.port}`);
    expect(line(r, 'api-reachable').status).toBe('ok');
    expect(line(r, 'api-certificate')).toMatchObject({ status: 'ok', data: { reason: 'address-covered' } });
  });

  it('warns, with both fixes, for an address outside the SANs', async () => {
    const r = await doctor(`127.0.0.2:${outside.port}`);
    const c = line(r, 'api-certificate');
    expect(c).toMatchObject({ status: 'warn', data: { reason: 'tls-server-name-set', tlsServerName: 'kubernetes' } });
    expect(c.fix).toContain('--api-address 127.0.0.2');
    expect(c.fix).toContain('tls-server-name');
  });

  it('fails for a server whose certificate another CA issued', async () => {
    const r = await doctor(`127.0.0.3:${stranger.port}`);
    expect(line(r, 'api-certificate')).toMatchObject({ status: 'fail', data: { code: 'TLS_VERIFY_FAILED' } });
    expect(r.ok).toBe(false);
  });

  it('skips when no address is given', async () => {
    expect(line(await runDoctor({ socket: agent.socketPath, env: {} }), 'api-certificate').status).toBe('skip');
  });
});

describe('doctor: libvirtd line', () => {
  it('skips, saying why, when the host has no libvirtd socket', async () => {
    const root = mkdtempSync(join(tmpdir(), 'qks-doc-root-'));
    try {
      const r = await runDoctor({ vmName: 'kubesolo', root, env: {}, handshakeTimeoutMs: 500 });
      const c = line(r, 'libvirtd');
      expect(c.status).toBe('skip');
      expect(c.detail).toContain('libvirt-sock');
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('skips with --socket (no domain to ask libvirtd about)', async () => {
    const r = await runDoctor({ socket: '/nonexistent.sock', env: {}, handshakeTimeoutMs: 500 });
    expect(line(r, 'libvirtd').status).toBe('skip');
  });
});
