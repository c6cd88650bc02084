/**
 * Under load, against the real qemu-ga (`-m unix-listen`):
 * - N parallel fetches of a kubeconfig-sized file on one socket (N = 1, 8, 32), all succeeding (they
 *   take turns: src/agent/lock.ts), time to the last one beside N sequential fetches in the same run;
 * - long runs: 10,000 commands on one connection, 1,000 connections in one process: fds and RSS
 *   before and after;
 * - 500 whole CLI runs in a row: no process, socket or temporary file left behind.
 * Counts can be lowered for a quick look: QKS_BENCH_COMMANDS, QKS_BENCH_CONNECTIONS, QKS_BENCH_CLI_RUNS
 * (QKS_BENCH_PARALLEL=0 skips the parallel rows).
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openAgent } from '../src/agent/connect.js';
import { report, type Sample } from './lib.js';

const COMMANDS = Number(process.env.QKS_BENCH_COMMANDS ?? 10_000);
const CONNECTIONS = Number(process.env.QKS_BENCH_CONNECTIONS ?? 1_000);
const CLI_RUNS = Number(process.env.QKS_BENCH_CLI_RUNS ?? 500);
// scripts/bench.mjs runs benches from the repo root, on the bundle it has just built
const CLI = join(process.cwd(), 'dist/qemu-kubesolo.mjs');

const dir = mkdtempSync(join(tmpdir(), 'qks-bench-load-'));
const sock = join(dir, 'qga.sock');
const file = join(dir, 'admin.kubeconfig');
writeFileSync(file, 'apiVersion: v1\n' + 'x'.repeat(5600) + '\n');
const ga = spawn('qemu-ga', ['-m', 'unix-listen', '-p', sock, '-t', dir], { stdio: 'ignore' });

const fds = () => readdirSync('/proc/self/fd').length;
const rssMiB = () => Math.round((process.memoryUsage().rss / 1048576) * 10) / 10;

async function fetchOnce(): Promise<void> {
  const c = await openAgent({ socket: sock });
  try {
    const data = await c.readFile(file, { method: 'file' });
    if (data.length < 5600) throw new Error('short read');
  } finally {
    await c.close();
  }
}

async function parallel(n: number, rounds: number): Promise<[Sample, Sample]> {
  const par: number[] = [];
  const seq: number[] = [];
  for (let r = 0; r < rounds; r++) {
    let t = performance.now();
    const results = await Promise.allSettled(Array.from({ length: n }, fetchOnce));
    par.push(performance.now() - t);
    const failed = results.filter((x) => x.status === 'rejected');
    if (failed.length) throw new Error(`${failed.length} of ${n} parallel fetches failed: ${(failed[0] as PromiseRejectedResult).reason}`);
    t = performance.now();
    for (let i = 0; i < n; i++) await fetchOnce();
    seq.push(performance.now() - t);
  }
  return [
    { name: `${n} sequential fetches`, ms: seq.sort((a, b) => a - b) },
    { name: `${n} parallel fetches, time to the last`, ms: par.sort((a, b) => a - b) },
  ];
}

/** Our processes, sockets and temp entries now (for "nothing left behind"). */
// the CLI runs get a private TMPDIR: other suites on this machine create temp entries of their own
const cliTmp = mkdtempSync(join(tmpdir(), 'qks-bench-cli-tmp-'));
function footprint(): { children: number; tmp: number; lockSockets: number } {
  const children = spawnSync('pgrep', ['-P', String(process.pid)], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean).length;
  const tmp = readdirSync(cliTmp).length;
  const lockSockets = spawnSync('sh', ['-c', "grep -c '@qemu-kubesolo-lock-' /proc/net/unix || true"], { encoding: 'utf8' }).stdout.trim();
  return { children, tmp, lockSockets: Number(lockSockets) || 0 };
}

try {
  for (let i = 0; !existsSync(sock); i++) {
    if (i > 1000) throw new Error('qemu-ga did not start');
    await new Promise((r) => setTimeout(r, 10));
  }
  await fetchOnce();

  for (const n of process.env.QKS_BENCH_PARALLEL === '0' ? [] : [1, 8, 32]) {
    const [seq, par] = await parallel(n, n === 32 ? 5 : 9);
    report(`${n} fetches of one file on one qemu-ga socket: parallel (taking turns) vs sequential`, seq, [par]);
  }

  // long run 1: many commands on one connection
  {
    const c = await openAgent({ socket: sock });
    for (let i = 0; i < 200; i++) await c.ping(); // warm up
    const fd0 = fds();
    const rss0 = rssMiB();
    const t = performance.now();
    let rssHalf = 0;
    for (let i = 0; i < COMMANDS; i++) {
      if (i % 10 === 9) await c.readFile(file, { method: 'file' });
      else await c.ping();
      if (i === COMMANDS >> 1) rssHalf = rssMiB();
    }
    const ms = performance.now() - t;
    console.log(`${COMMANDS} commands on one connection (1 in 10 a whole file read): ${Math.round(ms)} ms; fds ${fd0} -> ${fds()}; RSS ${rss0} -> ${rssHalf} (half way) -> ${rssMiB()} MiB`);
    await c.close();
  }

  // long run 2: many connections in one process
  {
    for (let i = 0; i < 20; i++) await fetchOnce();
    const fd0 = fds();
    const rss0 = rssMiB();
    const t = performance.now();
    let rssHalf = 0;
    for (let i = 0; i < CONNECTIONS; i++) {
      await fetchOnce();
      if (i === CONNECTIONS >> 1) rssHalf = rssMiB();
    }
    const ms = performance.now() - t;
    await new Promise((r) => setTimeout(r, 100)); // closed sockets are released on the next tick
    console.log(`${CONNECTIONS} connections (open, read, close) in one process: ${Math.round(ms)} ms; fds ${fd0} -> ${fds()}; RSS ${rss0} -> ${rssHalf} (half way) -> ${rssMiB()} MiB`);
  }

  // long run 3: whole CLI runs
  {
    const before = footprint();
    const t = performance.now();
    for (let i = 0; i < CLI_RUNS; i++) {
      const r = spawnSync(process.execPath, [CLI, 'agent', 'cat', '--socket', sock, file], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, TMPDIR: cliTmp } });
      if (r.status !== 0) throw new Error(`CLI run ${i} exited ${r.status}: ${r.stderr.toString()}`);
    }
    const ms = performance.now() - t;
    const after = footprint();
    console.log(
      `${CLI_RUNS} CLI runs of agent cat in a row: ${Math.round(ms)} ms (${(ms / CLI_RUNS).toFixed(1)} ms each); ` +
        `child processes ${before.children} -> ${after.children}, temp entries ${before.tmp} -> ${after.tmp}, lock sockets ${before.lockSockets} -> ${after.lockSockets}`,
    );
    if (after.children > before.children || after.tmp > before.tmp || after.lockSockets > before.lockSockets) throw new Error('something was left behind');
  }
} finally {
  ga.kill('SIGTERM');
  rmSync(dir, { recursive: true, force: true });
  rmSync(cliTmp, { recursive: true, force: true });
}
