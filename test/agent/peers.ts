/**
 * The two agents the same suite runs against: the real qemu-ga (`-m unix-listen`, a private state
 * dir, killed after) and our fake. Guest files are host files for the real one (it runs here) and
 * memfs files for the fake, at the same absolute paths.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach } from 'vitest';
import { startFakeAgent, type FakeAgent, type FakeAgentFaults } from '../../src/fake-agent/index.js';

export interface AgentPeer {
  kind: 'qemu-ga' | 'fake';
  socketPath: string;
  /** A directory for this peer's guest files (absolute; the same path in the guest). */
  dir: string;
  writeGuestFile(path: string, data: string | Buffer): void;
  /** The fake's handle on faults and state (undefined for the real agent). */
  fake?: FakeAgent;
  close(): Promise<void>;
}

export interface PeerOptions {
  /** Commands to block (qemu-ga -b / fake `disabled`). */
  block?: string[];
  faults?: FakeAgentFaults;
}

async function until(cond: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

export async function startRealAgent(options: PeerOptions = {}): Promise<AgentPeer> {
  const dir = mkdtempSync(join(tmpdir(), 'qks-qga-'));
  const socketPath = join(dir, 'qga.sock');
  const args = ['-m', 'unix-listen', '-p', socketPath, '-t', dir];
  if (options.block?.length) args.push('-b', options.block.join(','));
  const child: ChildProcess = spawn('qemu-ga', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  let exited = false;
  child.on('exit', () => (exited = true));
  await until(() => existsSync(socketPath) || exited, 10_000, 'qemu-ga socket').catch((e) => {
    child.kill('SIGKILL');
    throw e;
  });
  if (exited) throw new Error(`qemu-ga exited at start: ${stderr}`);
  return {
    kind: 'qemu-ga',
    socketPath,
    dir,
    writeGuestFile(path, data) {
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, data);
    },
    async close() {
      if (!exited) {
        child.kill('SIGTERM');
        await until(() => exited, 5_000, 'qemu-ga exit').catch(() => child.kill('SIGKILL'));
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function startFakePeer(options: PeerOptions = {}): Promise<AgentPeer> {
  const dir = mkdtempSync(join(tmpdir(), 'qks-fake-'));
  const socketPath = join(dir, 'qga.sock');
  const fake = await startFakeAgent({ socketPath, faults: { ...options.faults, ...(options.block ? { disabled: options.block } : {}) } });
  return {
    kind: 'fake',
    socketPath,
    dir,
    fake,
    writeGuestFile: (path, data) => fake.setFile(path, data),
    async close() {
      await fake.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** About the size of Kubesolo's admin.kubeconfig (~5.5 KiB), with braces and quotes in it. */
export function kubeconfigLike(): string {
  const b64 = Buffer.alloc(1500, 7).toString('base64');
  return [
    'apiVersion: v1',
    'clusters:',
    '- cluster:',
    `    certificate-authority-data: ${b64}`,
    '    server: https://127.0.0.1:6443',
    '  name: kubesolo',
    'contexts:',
    '- context: {cluster: kubesolo, user: kubernetes-admin}',
    '  name: kubernetes-admin@kubesolo',
    'current-context: kubernetes-admin@kubesolo',
    'kind: Config',
    'users:',
    '- name: kubernetes-admin',
    '  user:',
    `    client-certificate-data: ${b64}`,
    `    client-key-data: ${b64.slice(0, 1400)}`,
    '# "quoted" {braces} \\ backslash',
    '',
  ].join('\n');
}

/**
 * Per-test clean-up for the agent tests: `cleanups` run after each test (last first); `tempDir()` makes
 * a directory that is removed then.
 */
export function perTestCleanup(prefix: string): { cleanups: (() => Promise<void> | void)[]; tempDir: () => string } {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });
  const tempDir = (): string => {
    const d = mkdtempSync(join(tmpdir(), prefix));
    cleanups.push(() => rmSync(d, { recursive: true, force: true }));
    return d;
  };
  return { cleanups, tempDir };
}
