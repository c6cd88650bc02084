/**
 * Reading a kubeconfig-sized file (~5.5 KiB) through the real qemu-ga, by guest-file-read and by exec
 * of cat: our client in-process and as a whole CLI run, beside minimal stdlib clients measured in the
 * same run (a bare Node `net` client in-process; a bare Python client as a whole process).
 * Each iteration is a whole retrieval: connect, handshake, read, close. With QKS_BENCH_BEFORE
 * (bench/lib.ts) ours also runs beside the older build's, in-process and as whole processes, interleaved.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openAgent } from '../src/agent/connect.js';
import { AgentClient } from '../src/agent/client.js';
import { connectDirect } from '../src/agent/direct.js';
import { before, besideModules, measureInterleaved, measureProcess, PY_QGA_CLIENT, report, reportBeside, type Sample } from './lib.js';

const dir = mkdtempSync(join(tmpdir(), 'qks-bench-agent-'));
const sock = join(dir, 'qga.sock');
const file = join(dir, 'admin.kubeconfig');
writeFileSync(file, 'apiVersion: v1\n' + 'x'.repeat(5600) + '\n');
const ga = spawn('qemu-ga', ['-m', 'unix-listen', '-p', sock, '-t', dir], { stdio: 'ignore' });

/** The smallest honest client: same steps (flush, sync-delimited, commands), no validation, no timeouts. */
async function minimalNode(mode: 'file' | 'exec'): Promise<Buffer> {
  const s = createConnection({ path: sock });
  let buf = '';
  const waiters: ((line: string) => void)[] = [];
  const lines: string[] = [];
  s.setEncoding('latin1');
  s.on('data', (d: string) => {
    buf += d;
    let i: number;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      const w = waiters.shift();
      if (w) w(line);
      else lines.push(line);
    }
  });
  const next = () => (lines.length ? Promise.resolve(lines.shift()!) : new Promise<string>((r) => waiters.push(r)));
  const call = async (cmd: object) => {
    const p = next();
    s.write(JSON.stringify(cmd));
    return JSON.parse(Buffer.from(await p, 'latin1').toString('utf8')).return;
  };
  await new Promise((r) => s.once('connect', r));
  const id = Math.floor(Math.random() * 1e9);
  s.write(Buffer.concat([Buffer.of(0xff), Buffer.from(JSON.stringify({ execute: 'guest-sync-delimited', arguments: { id } }))]));
  for (;;) {
    const line = await next();
    if (line.startsWith('\xff') && JSON.parse(line.slice(1)).return === id) break;
  }
  let out: Buffer;
  if (mode === 'file') {
    const h = await call({ execute: 'guest-file-open', arguments: { path: file } });
    const r = await call({ execute: 'guest-file-read', arguments: { handle: h, count: 65536 } });
    await call({ execute: 'guest-file-close', arguments: { handle: h } });
    out = Buffer.from(r['buf-b64'], 'base64');
  } else {
    const { pid } = await call({ execute: 'guest-exec', arguments: { path: '/bin/cat', arg: [file], 'capture-output': true } });
    let st;
    for (let wait = 1; !(st = await call({ execute: 'guest-exec-status', arguments: { pid } })).exited; wait = Math.min(wait * 2, 50)) {
      await new Promise((r) => setTimeout(r, wait));
    }
    out = Buffer.from(st['out-data'], 'base64');
  }
  s.destroy();
  return out;
}

const PY =
  PY_QGA_CLIENT +
  String.raw`
path, f, mode = sys.argv[1], sys.argv[2], sys.argv[3]
call = agent(path)
if mode == 'file':
    out = read(call, f)
else:
    p = call('guest-exec', {'path': '/bin/cat', 'arg': [f], 'capture-output': True})['pid']; w = 0.001
    while True:
        st = call('guest-exec-status', {'pid': p})
        if st['exited']: break
        time.sleep(w); w = min(w * 2, 0.05)
    out = base64.b64decode(st['out-data'])
sys.stdout.buffer.write(out)
`;

async function ours(method: 'file' | 'exec'): Promise<Buffer> {
  const c = await openAgent({ socket: sock });
  try {
    return await c.readFile(file, { method });
  } finally {
    await c.close();
  }
}

try {
  for (let i = 0; i < 500 && !existsSync(sock); i++) await new Promise((r) => setTimeout(r, 10));
  const expected = (await minimalNode('file')).length;
  for (const m of ['file', 'exec'] as const) {
    if ((await ours(m)).length !== expected || (await minimalNode(m)).length !== expected) throw new Error(`wrong length by ${m}`);
  }
  for (const m of ['file', 'exec'] as const) {
    const [base, mine] = (await measureInterleaved([{ name: `minimal node net client, ${m}`, fn: () => minimalNode(m) }, { name: `openAgent + readFile (${m}) + close`, fn: () => ours(m) }], { iterations: 200, warmup: 20 })) as [Sample, Sample];
    report(`in-process, ${m === 'file' ? 'guest-file-open/read/close' : 'guest-exec of cat'} (${expected} bytes)`, base, [mine]);
  }

  const cli = join(process.cwd(), 'dist/qemu-kubesolo.mjs');
  const hasPython = spawnSync('python3', ['-c', '']).status === 0;
  for (const m of ['file', 'exec'] as const) {
    const rows = [await measureProcess(`qemu-kubesolo agent cat --method ${m}`, process.execPath, [cli, 'agent', 'cat', '--socket', sock, '--method', m, file])];
    const nodeBare = await measureProcess(`node -e '' (start-up alone)`, process.execPath, ['-e', '']);
    const base = hasPython ? await measureProcess(`python3 minimal client, ${m}`, 'python3', ['-c', PY, sock, file, m]) : nodeBare;
    report(`whole process, ${m}`, base, hasPython ? [...rows, nodeBare] : rows);
  }
  if (before) {
    const m = await besideModules(['src/agent/connect.ts', 'src/agent/direct.ts'], ['src/agent/connect.ts']);
    const viaLib = (connect: typeof openAgent, method: 'file' | 'exec') => async () => {
      const c = await connect({ socket: sock });
      try {
        return await c.readFile(file, { method });
      } finally {
        await c.close();
      }
    };
    const viaCli = (bundle: string, method: string) => () => {
      const r = spawnSync(process.execPath, [bundle, 'agent', 'cat', '--socket', sock, '--method', method, file], { stdio: ['ignore', 'ignore', 'pipe'] });
      if (r.status !== 0) throw new Error(`${bundle}: ${r.stderr.toString().slice(0, 300)}`);
    };
    const rows: { name: string; old: Sample; new: Sample }[] = [];
    // the old build has no per-socket lock (src/agent/lock.ts, issue 17): this build also runs without
    // it, in the same interleaving, so the rows show the lock's cost apart from the rest of the path
    const newConnectDirect = m.new[1]!.connectDirect as typeof connectDirect;
    const unlocked: typeof openAgent = (target, o) => m.new[0]!.openAgent(target, { ...o, candidates: [{ label: 'socket', kind: 'direct', open: (c: { handshakeTimeoutMs: number }) => newConnectDirect(sock, { ...c, lock: false }) }] });
    for (const method of ['file', 'exec'] as const) {
      const name = `openAgent + readFile (${method}) + close, in-process`;
      const [n, o, u] = await measureInterleaved([{ name, fn: viaLib(m.new[0]!.openAgent, method) }, { name, fn: viaLib(m.old[0]!.openAgent, method) }, { name, fn: viaLib(unlocked, method) }], { iterations: 200, warmup: 20 });
      rows.push({ name, new: n!, old: o! }, { name: `  the same, this build without the lock (issue 17)`, new: u!, old: o! });
    }
    for (const method of ['file', 'exec'] as const) {
      const name = `qemu-kubesolo agent cat --method ${method} (whole process)`;
      const [n, o] = await measureInterleaved([{ name, fn: viaCli(cli, method) }, { name, fn: viaCli(before.cli, method) }], { iterations: 15, warmup: 2 });
      rows.push({ name, new: n!, old: o! });
    }
    reportBeside('agent reads through the real qemu-ga', rows);
    // what of the in-process difference is the per-socket lock (src/agent/lock.ts, issue 17): this
    // build with and without it, interleaved
    const direct = (lock: boolean) => async () => {
      const t = await connectDirect(sock, lock ? {} : { lock: false });
      try {
        return await new AgentClient(t).readFile(file, { method: 'file' });
      } finally {
        await t.close();
      }
    };
    const [withLock, noLock] = await measureInterleaved([{ name: 'this build, direct + readFile (file), with the per-socket lock', fn: direct(true) }, { name: 'the same without the lock', fn: direct(false) }], { iterations: 200, warmup: 20 });
    report('the lock\'s share, in-process (this build only)', noLock!, [withLock!]);
  }
} finally {
  ga.kill();
  rmSync(dir, { recursive: true, force: true });
}
