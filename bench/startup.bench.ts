/**
 * Start-up of whole CLI processes, against issue 20's goals, each beside `node -e 0`, a minimal
 * stdlib client of the same job (Python, as in the reference baselines) and, for the agent rows, a bare
 * Node client of it (the floor for node + the job), measured in the same run with
 * the rows interleaved (round after round, in a random order), so drift on a shared machine hits all rows alike:
 *
 *   --version                          <= 1.10x node -e 0
 *   agent ping / agent cat (qemu-ga)   <= node -e 0 + 15 ms, peak RSS <= 45 MiB
 *   kubeconfig --socket                <= node -e 0 + 25 ms
 *   artifacts --create-iso             <= node -e 0 + 40 ms
 *
 * The CLI rows: the command as npm installs it (dist/bin/qemu-kubesolo.cjs and its .chunks file, its
 * compile cache warm; the goals are its), the same without its compile cache, the single-file bundles
 * (.cjs, .mjs), the single executable (scripts/sea.mjs; linux-x64) with and without its compile cache, and
 * with QKS_BENCH_BEFORE=FILE an older bundle to compare.
 * Peak RSS comes from a separate pass under /usr/bin/time. BENCH_ROUNDS sets the rounds (default 31);
 * the rows run with PATH and HOME only (rowEnv, below).
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PY_QGA_CLIENT } from './lib.js';

interface Row {
  name: string;
  argv: string[];
  /** Only for the reference rows: what the goal is measured against. */
  role?: 'node' | 'minimal';
}
interface Measured extends Row {
  ms: number[];
  rssMiB?: number;
}

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 31);
const root = process.cwd();
const dir = mkdtempSync(join(tmpdir(), 'qks-bench-startup-'));
const sock = join(dir, 'qga.sock');
const guestFile = join(dir, 'admin.kubeconfig');
const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKh2ZpQ6bN5FOg5v8cZ9m7ZP8r4yYx0g4kXrGmQn3fW1 bench@host';
const HASH = '$6$benchsalt$0kQCiHldjG5kuj8v4yzRhjGa58r4Kq.bbzhE43OQbldhEO7AGV.3.DNU3G9BMAIW5y72HXigxRHEilIdGP80o0'; // openssl passwd -6 -salt benchsalt bench
writeFileSync(guestFile, readFileSync(join(root, 'fixtures/kubeconfig/admin.kubeconfig')));

const median = (a: number[]) => [...a].sort((x, y) => x - y)[a.length >> 1]!;
const p90 = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor((a.length - 1) * 0.9)]!;

/**
 * The rows' environment: PATH and a HOME of this run, not the caller's. A variable node reads at start
 * changes every row's floor: NODE_EXTRA_CA_CERTS makes Node 20 build its whole CA store before any
 * script runs (measured here: `node -e 0` 31 ms without it, +30 ms with one certificate in the file, +60
 * with Debian's bundle of 144), which drowns the few ms the goals are about in its spread.
 * BENCH_ENV=inherit runs the rows with the caller's environment instead.
 */
const inherit = process.env.BENCH_ENV === 'inherit';
const rowEnv: NodeJS.ProcessEnv = inherit ? process.env : { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: join(dir, 'home') };
const dropped = inherit ? [] : Object.keys(process.env).filter((k) => /^(NODE_|UV_|OPENSSL_|SSL_CERT_)/.test(k));

function runOnce(argv: string[]): number {
  const t = performance.now();
  const r = spawnSync(argv[0]!, argv.slice(1), { cwd: dir, env: rowEnv, stdio: ['ignore', 'ignore', 'pipe'] });
  const ms = performance.now() - t;
  if (r.status !== 0) throw new Error(`${argv.join(' ')}: exit ${r.status}: ${r.stderr?.toString().slice(0, 400)}`);
  return ms;
}

/** Peak RSS (MiB, median of 5) under /usr/bin/time, or undefined without it. */
function peakRss(argv: string[]): number | undefined {
  if (!existsSync('/usr/bin/time')) return undefined;
  const kib: number[] = [];
  for (let i = 0; i < 5; i++) {
    const r = spawnSync('/usr/bin/time', ['-f', '%M', ...argv], { cwd: dir, env: rowEnv, stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
    kib.push(Number(r.stderr.trim().split('\n').pop()));
  }
  return median(kib) / 1024;
}

/**
 * Every row once per round, in a new random order each round (a fixed order would give one row the
 * same neighbour, and whatever it leaves in the caches, every time). `ms[i]` is round i's time, so rows
 * can also be compared round by round (table's paired column).
 */
function measureRows(rows: Row[]): Measured[] {
  const out: Measured[] = rows.map((r) => ({ ...r, ms: [] }));
  for (let round = -2; round < ROUNDS; round++) {
    const order = out.map((_, k) => k);
    for (let j = order.length - 1; j > 0; j--) {
      const k = Math.floor(Math.random() * (j + 1));
      [order[j], order[k]] = [order[k]!, order[j]!];
    }
    for (const k of order) {
      const ms = runOnce(out[k]!.argv);
      if (round >= 0) out[k]!.ms.push(ms); // two rounds of warm-up (page cache, qemu-ga)
    }
  }
  for (const r of out) r.rssMiB = peakRss(r.argv);
  return out;
}

/**
 * The 90 % interval of the difference of medians (rows resampled independently, 1000 times): how far one
 * run's figure can be trusted on this machine (three runs of the same build moved by up to 16 ms,
 * bench/startup.md round 10).
 */
function interval(row: number[], base: number[]): [number, number] {
  const draw = (a: number[]) => median(a.map(() => a[Math.floor(Math.random() * a.length)]!));
  const d = Array.from({ length: 1000 }, () => draw(row) - draw(base)).sort((x, y) => x - y);
  return [d[50]!, d[949]!];
}

/**
 * The goal's measure is the difference of the two medians, with its 90 % interval. Beside it, the median
 * of the round-by-round differences: a burst of load lands on both runs of a round, so this one moves
 * less from run to run.
 */
function table(title: string, goal: string, rows: Measured[]): void {
  const nodeMs = rows.find((r) => r.role === 'node')!.ms;
  const node = median(nodeMs);
  const minimal = rows.find((r) => r.role === 'minimal');
  const min = minimal ? median(minimal.ms) : undefined;
  const w = Math.max(...rows.map((r) => r.name.length), 10);
  console.log(`\n## ${title}   (goal: ${goal})`);
  console.log(`${'what'.padEnd(w)}  median ms     p90  x node -e 0  + ms over it  90 % interval  paired +ms${min ? '  x minimal' : ''}  peak RSS MiB`);
  for (const r of rows) {
    const m = median(r.ms);
    const paired = median(r.ms.map((ms, i) => ms - nodeMs[i]!));
    const range = r.role === 'node' ? '-' : interval(r.ms, nodeMs).map((x) => x.toFixed(1)).join('..');
    console.log(
      `${r.name.padEnd(w)}  ${m.toFixed(1).padStart(9)}  ${p90(r.ms).toFixed(1).padStart(6)}  ${(m / node).toFixed(2).padStart(10)}x  ${(m - node).toFixed(1).padStart(11)}  ${range.padStart(13)}  ${paired.toFixed(1).padStart(10)}` +
        `${min ? `  ${(m / min).toFixed(2).padStart(8)}x` : ''}  ${r.rssMiB?.toFixed(1).padStart(12) ?? '           -'}`,
    );
  }
}

// --- the programs
// every row goes through /usr/bin/env (the bundle rows set a variable with it), so all pay its exec
const nodeRow: Row = { name: 'node -e 0', argv: ['/usr/bin/env', process.execPath, '-e', '0'], role: 'node' };
const sea = join(root, 'dist/qemu-kubesolo-linux-x64');
const builtSea = process.platform === 'linux' && process.arch === 'x64' && spawnSync(process.execPath, ['scripts/sea.mjs', sea], { cwd: root, stdio: 'inherit' }).status === 0;
const before = process.env.QKS_BENCH_BEFORE;
// the bundle's compile cache in a directory of this run (warm after the warm-up rounds), and without it
const cacheDir = join(dir, 'compile-cache');
const clis: [string, string[]][] = [
  ['command: dist/bin (loader + .chunks)', ['/usr/bin/env', `QKS_COMPILE_CACHE=${cacheDir}`, process.execPath, join(root, 'dist/bin/qemu-kubesolo.cjs')]],
  ['command, QKS_COMPILE_CACHE=0', ['/usr/bin/env', 'QKS_COMPILE_CACHE=0', process.execPath, join(root, 'dist/bin/qemu-kubesolo.cjs')]],
  ['one file: node qemu-kubesolo.cjs', ['/usr/bin/env', `QKS_COMPILE_CACHE=${cacheDir}`, process.execPath, join(root, 'dist/qemu-kubesolo.cjs')]],
  ['one file: node qemu-kubesolo.mjs', ['/usr/bin/env', `QKS_COMPILE_CACHE=${cacheDir}`, process.execPath, join(root, 'dist/qemu-kubesolo.mjs')]],
  ...(builtSea
    ? ([
        ['single executable', ['/usr/bin/env', `QKS_COMPILE_CACHE=${cacheDir}`, sea]],
        ['single executable, QKS_COMPILE_CACHE=0', ['/usr/bin/env', 'QKS_COMPILE_CACHE=0', sea]],
      ] as [string, string[]][])
    : []),
  ...(before ? ([[`before: node ${before.split('/').pop()}`, ['/usr/bin/env', process.execPath, before]]] as [string, string[]][]) : []),
];
const cliRows = (args: string[]): Row[] => clis.map(([name, argv]) => ({ name, argv: [...argv, ...args] }));

// Minimal Python clients of the same jobs: the agent handshake (0xFF, guest-sync-delimited), then the
// verb's commands; no validation, no timeouts.
const PY_AGENT = PY_QGA_CLIENT + String.raw`
mode, path = sys.argv[1], sys.argv[2]
call = agent(path)
if mode == 'ping': call('guest-ping'); print('ok')
elif mode == 'cat': sys.stdout.buffer.write(read(call, sys.argv[3]))
else:
    text = read(call, sys.argv[3]).decode().replace('https://127.0.0.1:', 'https://' + sys.argv[4] + ':')
    out = sys.argv[5]; tmp = out + '.tmp'
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600); os.write(fd, text.encode()); os.close(fd); os.rename(tmp, out)
`;
const PY_ARTIFACTS = String.raw`
import os, sys, subprocess, uuid
out, key, hashed = sys.argv[1], sys.argv[2], sys.argv[3]
os.makedirs(out, exist_ok=True)
ud = f"""#cloud-config
hostname: kubesolo
users:
  - name: kubesolo
    groups: [wheel]
    lock_passwd: false
    passwd: "{hashed}"
    ssh_authorized_keys: ["{key}"]
packages: [openssh, qemu-guest-agent, curl]
runcmd:
  - rc-update add qemu-guest-agent default
"""
md = f'instance-id: "iid-{uuid.uuid4().hex[:16]}"\nlocal-hostname: "kubesolo"\n'
for name, text in (('user-data', ud), ('meta-data', md)):
    with open(os.path.join(out, name), 'w') as f: f.write(text)
subprocess.run(['genisoimage', '-quiet', '-output', os.path.join(out, 'cidata.iso'), '-volid', 'cidata', '-joliet', '-rock',
                os.path.join(out, 'user-data'), os.path.join(out, 'meta-data')], check=True)
`;
// A bare Node client of the same jobs (net, the same handshake and commands, no validation, no
// timeouts, no lock): the floor for "node + this work" in one process, against which the CLI's own
// cost (its code, options, lock, checks) is what is left.
const NODE_AGENT = String.raw`
const net = require('net'), fs = require('fs');
const [mode, path, file, host, out] = process.argv.slice(1);
const s = net.createConnection({ path });
const id = 2 ** 32 + Math.floor(Math.random() * 1e9);
let buf = Buffer.alloc(0), synced = false, step = 0, handle;
const send = (c, a) => s.write(JSON.stringify({ execute: c, ...(a ? { arguments: a } : {}) }) + '\n');
const steps = mode === 'ping' ? [() => send('guest-ping'), () => (process.stdout.write('ok\n'), s.destroy())]
  : [() => send('guest-file-open', { path: file }), (r) => ((handle = r), send('guest-file-read', { handle, count: 65536 })),
     (r) => { const data = Buffer.from(r['buf-b64'], 'base64'); send('guest-file-close', { handle });
       if (mode === 'cat') process.stdout.write(data);
       else { const tmp = out + '.tmp'; fs.writeFileSync(tmp, data.toString().replaceAll('https://127.0.0.1:', 'https://' + host + ':'), { mode: 0o600 }); fs.renameSync(tmp, out); } },
     () => s.destroy()];
s.on('connect', () => s.write(Buffer.concat([Buffer.of(0xff), Buffer.from(JSON.stringify({ execute: 'guest-sync-delimited', arguments: { id } }) + '\n')])));
s.on('data', (d) => {
  buf = Buffer.concat([buf, d]);
  if (!synced) { const i = buf.indexOf(0xff); if (i < 0) return; buf = buf.subarray(i + 1); }
  for (let nl; (nl = buf.indexOf(10)) >= 0; ) {
    const v = JSON.parse(buf.subarray(0, nl).toString()); buf = buf.subarray(nl + 1);
    if (!synced) { if (v.return === id) { synced = true; steps[step++](); } continue; }
    steps[step++](v.return);
  }
});
`;
const bare = (name: string, args: string[]): Row[] => [{ name, argv: ['/usr/bin/env', process.execPath, '-e', NODE_AGENT, ...args] }];

// the system's python3 (a version manager's shim on PATH would add its own start-up)
const python = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
const hasPython = spawnSync(python, ['-c', '']).status === 0;
const py = (name: string, script: string, args: string[]): Row[] => (hasPython ? [{ name, argv: ['/usr/bin/env', python, '-c', script, ...args], role: 'minimal' }] : []);

const qga = spawn('qemu-ga', ['-m', 'unix-listen', '-p', sock, '-t', dir], { stdio: 'ignore' });
try {
  for (let i = 0; i < 500 && !existsSync(sock); i++) await new Promise((r) => setTimeout(r, 10));
  if (!existsSync(sock)) throw new Error('qemu-ga did not start (is it installed?)');
  mkdirSync(join(dir, 'art-py'));
  mkdirSync(join(dir, 'home'));

  table('qemu-kubesolo --version', '<= 1.10x node -e 0', measureRows([nodeRow, ...cliRows(['--version'])]));
  table(
    'agent ping --socket (real qemu-ga)',
    '<= node -e 0 + 15 ms; RSS <= 45 MiB',
    measureRows([nodeRow, ...py('python3 minimal client: ping', PY_AGENT, ['ping', sock]), ...bare('bare node client: ping', ['ping', sock]), ...cliRows(['agent', 'ping', '--socket', sock])]),
  );
  table(
    'agent cat --socket FILE (real qemu-ga, a 5.5 KiB kubeconfig)',
    '<= node -e 0 + 15 ms; RSS <= 45 MiB',
    measureRows([
      nodeRow,
      ...py('python3 minimal client: file read', PY_AGENT, ['cat', sock, guestFile]),
      ...bare('bare node client: file read', ['cat', sock, guestFile]),
      ...cliRows(['agent', 'cat', '--socket', sock, guestFile]),
    ]),
  );
  const kcOut = join(dir, 'kubeconfig');
  table(
    'kubeconfig --socket (read, rewrite the server, write 0600)',
    '<= node -e 0 + 25 ms',
    measureRows([
      nodeRow,
      ...py('python3 minimal client: read + replace + write', PY_AGENT, ['kubeconfig', sock, guestFile, '10.0.0.50', kcOut]),
      ...bare('bare node client: read + replace + write', ['kubeconfig', sock, guestFile, '10.0.0.50', kcOut]),
      ...cliRows(['kubeconfig', '--socket', sock, '--remote-path', guestFile, '--api-server', '10.0.0.50', '--output', kcOut, '--no-verify-server', '--quiet']),
    ]),
  );
  table(
    'artifacts --create-iso (user-data, meta-data, cidata.iso)',
    '<= node -e 0 + 40 ms',
    measureRows([
      nodeRow,
      ...py('python3 f-strings + genisoimage', PY_ARTIFACTS, [join(dir, 'art-py'), KEY, HASH]),
      ...cliRows(['artifacts', '--quiet', '--ssh-key', KEY, '--password-hash', HASH, '--output-dir', join(dir, 'art'), '--create-iso']),
    ]),
  );
  const envNote = inherit ? "the caller's environment" : `PATH and HOME only${dropped.length ? ` (not passed: ${dropped.join(', ')})` : ''}`;
  console.log(`\n${ROUNDS} rounds; rows run with ${envNote}; ${builtSea ? '' : 'no single executable (not linux-x64, or its build failed); '}load average ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`);
} finally {
  qga.kill('SIGTERM');
  rmSync(dir, { recursive: true, force: true });
}
