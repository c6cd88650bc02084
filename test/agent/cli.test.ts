/** The `agent` and `fake-agent` verbs, run as users run them: the CLI bundle in its own process. */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openAgent } from '../../src/agent/connect.js';
import { startFakeAgent, type FakeAgent } from '../../src/fake-agent/index.js';
import { CLI_BUNDLE, runCli } from '../helpers/cli.js';

describe('qemu-kubesolo agent', () => {
  let dir: string;
  let fake: FakeAgent;
  const KC = '/var/lib/kubesolo/pki/admin/admin.kubeconfig';
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'qks-cli-agent-'));
    fake = await startFakeAgent({ socketPath: join(dir, 'qga.sock'), files: { [KC]: 'apiVersion: v1\n', '/bin.dat': Buffer.of(0, 255, 1) } });
  });
  afterAll(async () => {
    await fake?.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const s = () => ['--socket', fake.socketPath];

  it('ping: text and --json', async () => {
    const r = await runCli(['agent', 'ping', ...s()]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/answered over direct/);
    const j = await runCli(['--json', 'agent', 'ping', ...s()]);
    expect(j.json[0]).toMatchObject({ ok: true, transport: { kind: 'direct', socketPath: fake.socketPath } });
  });

  it('info --json lists commands', async () => {
    const r = await runCli(['--json', 'agent', 'info', ...s()]);
    expect(r.code).toBe(0);
    expect(r.json[0]).toMatchObject({ ok: true, version: '7.2.22' });
    expect((r.json[0] as { commands: { name: string }[] }).commands.map((c) => c.name)).toContain('guest-exec');
  });

  it('cat prints the file raw; --json gives text or base64; a missing file exits 3', async () => {
    expect((await runCli(['agent', 'cat', ...s(), KC])).stdout).toBe('apiVersion: v1\n');
    expect((await runCli(['agent', 'cat', ...s(), '--method', 'exec', KC])).stdout).toBe('apiVersion: v1\n');
    expect((await runCli(['--json', 'agent', 'cat', ...s(), '/bin.dat'])).json[0]).toMatchObject({ encoding: 'base64', data: 'AP8B', bytes: 3 });
    const miss = await runCli(['--json', 'agent', 'cat', ...s(), '/nope']);
    expect(miss.code).toBe(3);
    expect(miss.json[0]).toMatchObject({ ok: false, error: { code: 'GUEST_FILE_NOT_FOUND', retryable: true } });
  });

  it('exec passes output through; a failing program exits 6 with its exit code', async () => {
    const ok = await runCli(['agent', 'exec', ...s(), '--', '/bin/echo', 'hi', '-n']);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toBe('hi -n\n');
    const bad = await runCli(['--json', 'agent', 'exec', ...s(), '--', '/bin/sh', '-c', 'exit 4']);
    expect(bad.code).toBe(6);
    expect(bad.json[0]).toMatchObject({ ok: false, exitCode: 4 });
  });

  it('execute sends any command with JSON arguments', async () => {
    const r = await runCli(['--json', 'agent', 'execute', ...s(), 'guest-sync', '{"id": 77}']);
    expect(r.json[0]).toEqual({ ok: true, return: 77 });
    expect((await runCli(['agent', 'execute', ...s(), 'guest-sync', '{nope'])).code).toBe(2);
  });

  it('usage errors exit 2; a missing socket exits 3; --help shows examples', async () => {
    // an empty variable is unset (VM_NAME='' falls back to VM_HOSTNAME, then kubesolo); an empty flag is refused
    const empty = await runCli(['--json', 'agent', 'ping', '--vm-name', '']);
    expect(empty.code).toBe(2);
    expect(empty.json[0]).toMatchObject({ ok: false, error: { code: 'CONFIG_INVALID', message: expect.stringMatching(/^--vm-name \(VM_NAME, VM_HOSTNAME\): /) } });
    expect((await runCli(['agent', 'ping', ...s(), '--timeout', 'soon'])).code).toBe(2);
    // too large for a timer: refused, not an instant AGENT_TIMEOUT
    expect((await runCli(['agent', 'ping', ...s(), '--timeout', '1e7'])).code).toBe(2);
    const miss = await runCli(['agent', 'ping', '--socket', join(dir, 'none.sock')]);
    expect(miss.code).toBe(3);
    expect(miss.stderr).toMatch(/SOCKET_NOT_FOUND/);
    for (const verb of ['ping', 'info', 'exec', 'cat', 'execute']) {
      const h = await runCli(['agent', verb, '--help']);
      expect(h.code).toBe(0);
      expect(h.stdout).toMatch(/Examples:/);
    }
  });

  it('finds the socket from VM_NAME under qemu:///session layouts (XDG_RUNTIME_DIR)', async () => {
    const runtime = mkdtempSync(join(tmpdir(), 'qks-rt-'));
    const chdir = join(runtime, 'libvirt/qemu/run/channel/3-vm1');
    mkdirSync(chdir, { recursive: true });
    const a = await startFakeAgent({ socketPath: join(chdir, 'org.qemu.guest_agent.1') });
    try {
      const r = await runCli(['--json', 'agent', 'ping'], { env: { VM_NAME: 'vm1', LIBVIRT_URI: 'qemu:///session', XDG_RUNTIME_DIR: runtime } });
      expect(r.json[0]).toMatchObject({ ok: true, transport: { channel: 'org.qemu.guest_agent.1', domain: 'vm1' } });
    } finally {
      await a.close();
      rmSync(runtime, { recursive: true, force: true });
    }
  });
});

describe('qemu-kubesolo fake-agent', () => {
  it('serves files given on the command line until SIGINT, and files that appear later', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'qks-cli-fake-'));
    const sock = join(dir, 'qga.sock');
    writeFileSync(join(dir, 'kc'), 'kube\n');
    const child = spawn(process.execPath, [CLI_BUNDLE, 'fake-agent', '--socket', sock, '--file', `/etc/kc=${join(dir, 'kc')}`, '--file-after', `300:/etc/late=${join(dir, 'kc')}`, '--disable', 'guest-exec'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    try {
      await expect.poll(() => existsSync(sock), { timeout: 10_000 }).toBe(true);
      const c = await openAgent({ socket: sock });
      expect((await c.readFile('/etc/kc')).toString()).toBe('kube\n');
      expect(await c.isEnabled('guest-exec')).toBe(false);
      await expect.poll(async () => (await c.readFile('/etc/late', { method: 'file' }).catch((e: { code: string }) => e.code)).toString(), { timeout: 5_000, interval: 50 }).toBe('kube\n');
      await c.close();
      child.kill('SIGINT');
      expect(await exited).toBe(0);
      expect(stderr).toMatch(/listening on/);
      expect(existsSync(sock)).toBe(false);
    } finally {
      child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a bad --file spec with exit 2', async () => {
    const r = await runCli(['fake-agent', '--socket', '/tmp/never.sock', '--file', 'relative=x']);
    expect(r.code).toBe(2);
  });
});
