// The CLI against the real qemu-ga (unix-listen mode, runs here: its guest files are host files).
import { mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { describeWithPeers } from '../helpers/peers.js';
import { startRealAgent, type AgentPeer } from '../agent/peers.js';

const ADMIN = readFileSync(new URL('../../fixtures/kubeconfig/admin.kubeconfig', import.meta.url), 'utf8');

describeWithPeers('kubeconfig from the real qemu-ga', ['qemu-ga'], () => {
  let peer: AgentPeer | undefined;
  afterEach(async () => {
    await peer?.close();
    peer = undefined;
  });

  it.each([
    ['file-read', []],
    ['exec', ['guest-file-open', 'guest-file-read', 'guest-file-close']],
  ])('by %s: byte for byte but the server, mode 0600', async (method, block) => {
    peer = await startRealAgent({ block });
    // a path with spaces, quotes and shell syntax: the agent has no shell, and must read it as is
    const remote = join(peer.dir, "guest fs; $(touch pwned) 'q'", 'admin.kubeconfig');
    mkdirSync(join(peer.dir, "guest fs; $(touch pwned) 'q'"));
    peer.writeGuestFile(remote, ADMIN);
    const out = join(peer.dir, 'out', 'kubesolo');
    const r = await runCli(['--json', 'kubeconfig', '--socket', peer.socketPath, '--remote-path', remote, '--api-server', '192.0.2.10', '--output', out, '--no-verify-server']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json[0]).toMatchObject({ ok: true, method, server: 'https://192.0.2.10:6443', transport: { kind: 'direct' } });
    expect(readFileSync(out, 'utf8')).toBe(ADMIN.replace('https://127.0.0.1:6443', 'https://192.0.2.10:6443'));
    expect(statSync(out).mode & 0o777).toBe(0o600);
  });

  it('a missing file: exit 3; with --wait, exit 5 at the timeout', async () => {
    peer = await startRealAgent();
    const remote = join(peer.dir, 'not-yet.kubeconfig');
    const base = ['kubeconfig', '--socket', peer.socketPath, '--remote-path', remote, '--output', join(peer.dir, 'x')];
    const r = await runCli(base);
    expect(r.code).toBe(3);
    const w = await runCli([...base, '--wait', '--timeout', '1']);
    expect(w.code).toBe(5);
    expect(w.stderr).toMatch(/WAIT_TIMEOUT/);
  });
});

describeWithPeers('fetchKubeconfig (library) from the real qemu-ga', ['qemu-ga'], () => {
  it('returns the rewritten text without writing a file', async () => {
    const { fetchKubeconfig } = await import('../../src/kubeconfig/get.js');
    const peer = await startRealAgent();
    try {
      const remote = join(peer.dir, 'admin.kubeconfig');
      peer.writeGuestFile(remote, ADMIN);
      const r = await fetchKubeconfig({ socket: peer.socketPath, remotePath: remote, apiServer: '192.0.2.10', output: false, verifyServer: false }, { env: {} });
      expect(r.kubeconfig).toBe(ADMIN.replace('127.0.0.1', '192.0.2.10'));
      expect(r).toMatchObject({ method: 'file-read', server: 'https://192.0.2.10:6443' });
    } finally {
      await peer.close();
    }
  });
});
