/**
 * Restarts during `kubeconfig --wait`: the agent killed and started again, qemu-ga
 * restarted, the VM rebooted (its socket directory gone and back under a new domain id). --wait still
 * returns the kubeconfig, soon after it is readable again. Bounds are generous (loaded machines):
 * the figure is printed, and measured in bench/.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openAgent } from '../../src/agent/connect.js';
import { startFakeAgent, type FakeAgent } from '../../src/fake-agent/index.js';
import { DEDICATED_CHANNEL } from '../../src/libvirt/channel-names.js';
import { readFromVm } from '../../src/kubeconfig/get.js';
import { resolveKubeconfigOptions } from '../../src/kubeconfig/options.js';
import { describeWithPeers } from '../helpers/peers.js';
import { kubeconfigLike, perTestCleanup } from './peers.js';

const { cleanups, tempDir } = perTestCleanup('qks-restart-');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const KC = '/var/lib/kubesolo/pki/admin/admin.kubeconfig';
/** Generous: "about a second" on a quiet machine, bench/ has the figure. */
const AFTER_READABLE_MS = 5_000;

function waitFor(flags: { socket?: string; vmNames?: string[]; remotePath?: string }, opts: { root?: string } = {}) {
  const o = resolveKubeconfigOptions({ wait: true, timeoutSec: '60', transport: 'direct', verifyServer: false, ...flags }, {});
  const vm = o.vmNames[0]!;
  return readFromVm(o, vm, {
    env: {},
    openAgent: (target, options) => openAgent(target, { env: {}, libvirtCandidates: () => [], ...(opts.root ? { root: opts.root } : {}), ...options }),
  });
}

async function startFake(socketPath: string, files: Record<string, string> = {}): Promise<FakeAgent> {
  const a = await startFakeAgent({ socketPath, files });
  cleanups.push(() => a.close());
  return a;
}

describe('--wait across restarts (fake agent)', () => {
  it('the agent killed mid-wait and started again: the kubeconfig arrives soon after it is back', async () => {
    const path = join(tempDir(), 'qga.sock');
    const first = await startFake(path); // up, but no kubeconfig yet
    const pending = waitFor({ socket: path });
    await sleep(800);
    await first.close(); // killed: its socket file is left behind (ECONNREFUSED), like a crashed agent
    await sleep(1_000);
    const back = performance.now();
    await startFake(path, { [KC]: kubeconfigLike() });
    const got = await pending;
    const ms = performance.now() - back;
    console.log(`[figure] fake agent restarted: kubeconfig ${Math.round(ms)} ms after it was readable`);
    expect(got.parsed.config.clusters).toHaveLength(1);
    expect(ms).toBeLessThan(AFTER_READABLE_MS);
  }, 60_000);

  it('the VM rebooted: the socket directory disappears and comes back with a new domain id', async () => {
    const root = tempDir();
    const dir1 = join(root, 'run/libvirt/qemu/channel/1-vm1');
    mkdirSync(dir1, { recursive: true });
    const a1 = await startFake(join(dir1, DEDICATED_CHANNEL));
    const pending = waitFor({ vmNames: ['vm1'] }, { root });
    await sleep(800);
    await a1.close();
    rmSync(dir1, { recursive: true, force: true });
    await sleep(1_000);
    const dir2 = join(root, 'run/libvirt/qemu/channel/2-vm1');
    mkdirSync(dir2, { recursive: true });
    const back = performance.now();
    await startFake(join(dir2, DEDICATED_CHANNEL), { [KC]: kubeconfigLike() });
    const got = await pending;
    const ms = performance.now() - back;
    console.log(`[figure] VM "rebooted" to a new socket dir: kubeconfig ${Math.round(ms)} ms after it was readable`);
    expect(got.transport?.socketPath).toBe(join(dir2, DEDICATED_CHANNEL));
    expect(ms).toBeLessThan(AFTER_READABLE_MS);
  }, 60_000);
});

describeWithPeers('--wait across a qemu-ga restart', ['qemu-ga'], () => {
  function qga(socketPath: string, stateDir: string): ChildProcess {
    const child = spawn('qemu-ga', ['-m', 'unix-listen', '-p', socketPath, '-t', stateDir], { stdio: 'ignore' });
    cleanups.push(() => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    });
    return child;
  }

  it('qemu-ga killed (kill -9) and started again mid-wait: the kubeconfig arrives soon after', async () => {
    const dir = tempDir();
    const socketPath = join(dir, 'qga.sock');
    const file = join(dir, 'admin.kubeconfig');
    const first = qga(socketPath, dir);
    while (!existsSync(socketPath)) await sleep(10);
    const pending = waitFor({ socket: socketPath, remotePath: file });
    await sleep(800);
    first.kill('SIGKILL');
    await new Promise((r) => first.once('exit', r));
    writeFileSync(file, kubeconfigLike());
    await sleep(1_000);
    rmSync(socketPath, { force: true });
    const back = performance.now();
    qga(socketPath, dir);
    const got = await pending;
    const ms = performance.now() - back;
    console.log(`[figure] qemu-ga restarted: kubeconfig ${Math.round(ms)} ms after it was started`);
    expect(got.parsed.config.clusters).toHaveLength(1);
    expect(ms).toBeLessThan(AFTER_READABLE_MS);
  }, 60_000);
});
