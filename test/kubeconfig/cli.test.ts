// `qemu-kubesolo kubeconfig` as a process against the fake agent: output file, --json, hostile files,
// --wait, several VMs, Ctrl-C.
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startFakeAgent, type FakeAgent } from '../../src/fake-agent/index.js';
import { DEFAULT_REMOTE_PATH } from '../../src/kubeconfig/options.js';
import { CLI_BUNDLE, runCli } from '../helpers/cli.js';

const ADMIN = readFileSync(new URL('../../fixtures/kubeconfig/admin.kubeconfig', import.meta.url), 'utf8');
const KEY_DATA = /client-key-data: (\S+)/.exec(ADMIN)![1]!;

let dir: string;
const agents: FakeAgent[] = [];
let n = 0;

async function agent(files: Record<string, string | Buffer> = { [DEFAULT_REMOTE_PATH]: ADMIN }, faults = {}): Promise<FakeAgent> {
  const a = await startFakeAgent({ socketPath: join(dir, `a${n++}.sock`), files, faults });
  agents.push(a);
  return a;
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'qks-kc-cli-'));
});
afterEach(async () => {
  await Promise.all(agents.splice(0).map((a) => a.close()));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const kc = (args: string[], env: NodeJS.ProcessEnv = {}) => runCli(['kubeconfig', ...args], { env: { HOME: dir, ...env } });

describe('kubeconfig through the fake agent', () => {
  it('writes the served file byte for byte but the server, 0600, new directories 0700', async () => {
    const a = await agent();
    const out = join(dir, 'new', 'deeper', 'kubesolo');
    const r = await runCli(['--json', 'kubeconfig', '--socket', a.socketPath, '--api-server', '10.0.0.50', '--output', out, '--no-verify-server'], { env: { HOME: dir } });
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(out, 'utf8')).toBe(ADMIN.replace('https://127.0.0.1:6443', 'https://10.0.0.50:6443'));
    expect(statSync(out).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'new')).mode & 0o777).toBe(0o700);
    expect(r.json).toHaveLength(1);
    expect(r.json[0]).toMatchObject({
      ok: true,
      vm: 'kubesolo',
      path: out,
      server: 'https://10.0.0.50:6443',
      method: 'file-read',
      transport: { kind: 'direct', socketPath: a.socketPath },
      bytes: Buffer.byteLength(ADMIN) - '127.0.0.1'.length + '10.0.0.50'.length,
      tls: { verified: false, reason: 'skipped' },
    });
    expect((r.json[0] as { elapsedMs: number }).elapsedMs).toBeGreaterThan(0);
    expect(r.stderr + r.stdout).not.toContain(KEY_DATA);
    expect(readdirSync(join(dir, 'new', 'deeper'))).toEqual(['kubesolo']); // no temp file left
    // an existing file with a wider mode is replaced by a 0600 one
    chmodSync(out, 0o644);
    expect((await runCli(['kubeconfig', '--socket', a.socketPath, '--api-server', '10.0.0.51', '--output', out, '--no-verify-server'], { env: { HOME: dir } })).code).toBe(0);
    expect(statSync(out).mode & 0o777).toBe(0o600);
    expect(readFileSync(out, 'utf8')).toContain('server: https://10.0.0.51:6443\n');
  });

  it('takes the address from KUBECONFIG_API_ADDRESS; the flag wins', async () => {
    const a = await agent();
    const out = join(dir, 'env');
    expect((await kc(['--socket', a.socketPath, '--output', out, '--no-verify-server'], { KUBECONFIG_API_ADDRESS: '[2001:db8::7]' })).code).toBe(0);
    expect(readFileSync(out, 'utf8')).toContain('server: https://[2001:db8::7]:6443\n');
    expect((await kc(['--socket', a.socketPath, '--output', out, '--no-verify-server', '--api-server', 'k8s.example.com:443'], { KUBECONFIG_API_ADDRESS: '10.1.1.1' })).code).toBe(0);
    expect(readFileSync(out, 'utf8')).toContain('server: https://k8s.example.com:443\n');
  });

  it('without --api-server keeps the address and says it only works inside the VM; default path ~/.kube/<vm>', async () => {
    const a = await agent();
    const r = await kc(['--socket', a.socketPath, '--vm-name', 'kube-7']);
    expect(r.code, r.stderr).toBe(0);
    const out = join(dir, '.kube', 'kube-7');
    expect(readFileSync(out, 'utf8')).toBe(ADMIN);
    expect(r.stderr).toMatch(/https:\/\/127\.0\.0\.1:6443, which only works inside the VM; pass --api-server/);
    expect(r.stdout).toMatch(/wrote .*kube-7/);
  });

  it('reads by guest-exec of cat when guest-file-* is disabled, and says so', async () => {
    const a = await agent(undefined, { disabled: ['guest-file-open', 'guest-file-read', 'guest-file-close'] });
    const r = await runCli(['--json', '--verbose', 'kubeconfig', '--socket', a.socketPath, '--output', join(dir, 'exec'), '--no-verify-server']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json[0]).toMatchObject({ method: 'exec' });
    expect(r.stderr).toMatch(/read \d+ bytes by exec/);
    expect(a.requests.map((q) => q.execute)).not.toContain('guest-file-open');
    expect(readFileSync(join(dir, 'exec'), 'utf8')).toBe(ADMIN);
  });

  it('--output - prints the kubeconfig on stdout and nothing else', async () => {
    const a = await agent();
    const r = await kc(['--socket', a.socketPath, '--output', '-', '--api-server', '10.0.0.9', '--no-verify-server', '--verbose']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(ADMIN.replace('127.0.0.1', '10.0.0.9'));
    expect(r.stderr).not.toContain(KEY_DATA);
    expect((await runCli(['--json', 'kubeconfig', '--socket', a.socketPath, '--output', '-'])).code).toBe(2);
  });

  it.each([
    ['not YAML', '{{{ [ not yaml'],
    ['YAML without clusters', 'apiVersion: v1\nkind: Config\nusers: []\n'],
    ['a huge file', Buffer.alloc(3 * 1024 * 1024, 'a')],
  ])('refuses %s: exit 6, nothing written, the old file untouched', async (_name, content) => {
    const a = await agent({ [DEFAULT_REMOTE_PATH]: content });
    const sub = mkdtempSync(join(dir, 'hostile-'));
    const out = join(sub, 'kubeconfig');
    writeFileSync(out, 'previous\n');
    const r = await runCli(['--json', 'kubeconfig', '--socket', a.socketPath, '--output', out, '--api-server', '10.0.0.1']);
    expect(r.code).toBe(6);
    expect(r.json[0]).toMatchObject({ ok: false, error: { code: 'KUBECONFIG_INVALID' } });
    expect(readFileSync(out, 'utf8')).toBe('previous\n');
    expect(readdirSync(sub)).toEqual(['kubeconfig']);
  });

  it('usage errors name the option: exit 2', async () => {
    const r = await kc(['--socket', '/nonexistent', '--api-server', 'a b']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--api-server \(KUBECONFIG_API_ADDRESS\): /);
    expect((await kc(['--timeout', '-3'])).stderr).toMatch(/--timeout: /);
  });

  it('a missing file without --wait: exit 3 at once', async () => {
    const a = await agent({});
    const r = await kc(['--socket', a.socketPath, '--output', join(dir, 'missing')]);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/does not exist in the (VM|guest) \(yet\).*GUEST_FILE_NOT_FOUND/);
    expect(r.stderr).toMatch(/--wait/);
  });
});

/**
 * Sends SIGINT once the child has printed its first line on stderr: by then its handlers are installed
 * (a signal sent earlier, on a busy machine, kills a process still loading). Resolves to the send time.
 */
function interruptWhenRunning(child: ReturnType<typeof spawn>): Promise<number> {
  return new Promise((resolve) => {
    child.stderr!.once('data', () => {
      child.stderr!.resume();
      child.kill('SIGINT');
      resolve(performance.now());
    });
  });
}

describe('--wait', () => {
  it('returns within a second of the file appearing (after ~2 s)', async () => {
    const a = await agent({});
    const out = join(dir, 'waited');
    const started = performance.now();
    a.setFile(DEFAULT_REMOTE_PATH, ADMIN, { afterMs: 2000 });
    const r = await kc(['--socket', a.socketPath, '--output', out, '--wait', '--timeout', '30', '--no-verify-server']);
    const total = performance.now() - started;
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(out, 'utf8')).toBe(ADMIN);
    expect(total).toBeGreaterThan(2000);
    // a hang guard only: how soon --wait notices the file is measured in bench/ (busy machines stretch this)
    expect(total - 2000).toBeLessThan(20_000);
  });

  it('waits over an empty file (Kubesolo still writing it) instead of failing', async () => {
    const a = await agent({ [DEFAULT_REMOTE_PATH]: '' });
    const out = join(dir, 'was-empty');
    const started = performance.now();
    a.setFile(DEFAULT_REMOTE_PATH, ADMIN, { afterMs: 1500 });
    const r = await kc(['--socket', a.socketPath, '--output', out, '--wait', '--timeout', '30', '--no-verify-server']);
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(out, 'utf8')).toBe(ADMIN);
    expect(performance.now() - started).toBeGreaterThan(1500);
    // without --wait the same empty file fails at once, as retryable
    const b = await agent({ [DEFAULT_REMOTE_PATH]: '' });
    const once = await runCli(['--json', 'kubeconfig', '--socket', b.socketPath, '--output', join(dir, 'empty'), '--no-verify-server']);
    expect(once.code).toBe(6);
    expect(once.json[0]).toMatchObject({ ok: false, error: { code: 'KUBECONFIG_INVALID', retryable: true } });
  });

  it('waits for the agent socket itself to appear', async () => {
    const socketPath = join(dir, 'late.sock');
    const out = join(dir, 'late');
    const started = performance.now();
    const run = kc(['--socket', socketPath, '--output', out, '--wait', '--timeout', '30', '--no-verify-server']);
    setTimeout(() => void startFakeAgent({ socketPath, files: { [DEFAULT_REMOTE_PATH]: ADMIN } }).then((a) => agents.push(a)), 1500);
    const r = await run;
    expect(r.code, r.stderr).toBe(0);
    expect(performance.now() - started).toBeGreaterThan(1500);
  });

  it('never appearing: exit 5 at --timeout, saying what it last saw', async () => {
    const a = await agent({});
    const r = await runCli(['--json', 'kubeconfig', '--socket', a.socketPath, '--output', join(dir, 'never'), '--wait', '--timeout', '2']);
    expect(r.code).toBe(5);
    expect(r.json[0]).toMatchObject({ ok: false, error: { code: 'WAIT_TIMEOUT', message: expect.stringMatching(/gave up after 2 s .*last: .*admin\.kubeconfig does not exist in the (VM|guest)/) } });
    expect(r.ms).toBeGreaterThan(2000);
    expect(r.ms).toBeLessThan(30_000); // ends at --timeout, not later: a generous guard
    expect(existsSync(join(dir, 'never'))).toBe(false);
  });

  it('errors waiting cannot fix fail at once', async () => {
    const a = await agent(undefined, { disabled: ['guest-file-open', 'guest-exec'] });
    const r = await kc(['--socket', a.socketPath, '--output', join(dir, 'disabled'), '--wait', '--timeout', '60']);
    expect(r.code).toBe(6);
    expect(r.stderr).toMatch(/COMMAND_DISABLED/);
    expect(r.ms).toBeLessThan(30_000); // far below --timeout 60: it did not wait
  });

  it('stops on Ctrl-C', async () => {
    const a = await agent({});
    const child = spawn(process.execPath, [CLI_BUNDLE, '-v', 'kubeconfig', '--socket', a.socketPath, '--output', join(dir, 'int'), '--wait'], { stdio: ['ignore', 'ignore', 'pipe'] });
    const started = interruptWhenRunning(child);
    const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
    expect(code).toBe(130);
    expect(performance.now() - (await started)).toBeLessThan(20_000); // stopped, not waited out (default --timeout 300)
  });

  it('stops a batch on Ctrl-C with 130, not the partial-failure 8', async () => {
    const a = await agent({});
    const b = await agent({});
    const names = join(dir, 'int-names');
    writeFileSync(names, 'int-a\nint-b\n');
    const sock = join(dir, '{vm}.sock');
    // the {vm} sockets are links to the two agents
    symlinkSync(a.socketPath, join(dir, 'int-a.sock'));
    symlinkSync(b.socketPath, join(dir, 'int-b.sock'));
    const child = spawn(process.execPath, [CLI_BUNDLE, '-v', 'kubeconfig', '--socket', sock, '--vm-names-file', names, '--output-dir', join(dir, 'int-out'), '--wait'], { stdio: ['ignore', 'ignore', 'pipe'] });
    void interruptWhenRunning(child);
    const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
    expect(code).toBe(130);
  });
});

describe('several VMs', () => {
  it('20 VMs, --jobs 4, one failing: 19 files, 20 JSON results, exit 8', async () => {
    const socks = join(dir, 'socks');
    mkdirSync(socks);
    const names = Array.from({ length: 20 }, (_, i) => `vm-${String(i).padStart(2, '0')}`);
    for (const name of names) {
      // vm-13 has no kubeconfig (yet)
      const files: Record<string, string> = name === 'vm-13' ? {} : { [DEFAULT_REMOTE_PATH]: ADMIN.replace('kubesolo', name) };
      agents.push(await startFakeAgent({ socketPath: join(socks, `${name}.sock`), files, faults: { delayMs: 5 } }));
    }
    const list = join(dir, 'vms.txt');
    writeFileSync(list, names.slice(10).join('\n') + '\n');
    const outDir = join(dir, 'many');
    const args = ['--json', 'kubeconfig', '--socket', join(socks, '{vm}.sock'), '--output-dir', outDir, '--jobs', '4', '--api-server', '10.9.9.9', '--no-verify-server', '--vm-names-file', list];
    for (const name of names.slice(0, 10)) args.push('--vm-name', name);
    const r = await runCli(args);
    expect(r.code, r.stderr).toBe(8);
    expect(readdirSync(outDir).sort()).toEqual(names.filter((x) => x !== 'vm-13'));
    expect(r.json).toHaveLength(20);
    const failed = (r.json as { ok: boolean; vm: string; error?: { code: string } }[]).filter((j) => !j.ok);
    expect(failed).toEqual([expect.objectContaining({ vm: 'vm-13', error: expect.objectContaining({ code: 'GUEST_FILE_NOT_FOUND' }) })]);
    expect(readFileSync(join(outDir, 'vm-05'), 'utf8')).toBe(ADMIN.replace('kubesolo', 'vm-05').replace('127.0.0.1', '10.9.9.9'));
    expect(r.stderr).toMatch(/19 of 20 kubeconfigs written; failed: vm-13/);
  });
});
