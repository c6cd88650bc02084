/**
 * A small benchmark harness: every bench measures candidates beside a named baseline in the same run
 * and prints medians and ratios. Run all with `npm run bench`, one with `npm run bench -- iso`.
 *
 * Old and new builds side by side, one command:
 *   QKS_BENCH_BEFORE=<older checkout>/dist/qemu-kubesolo.mjs npm run bench
 * (that checkout built: npm ci && npm run build). startup.bench.ts runs that bundle beside this one;
 * artifacts, iso, templates and kubeconfig also run their rows of ours beside the older build's: whole
 * processes of either bundle, and library calls through besideModules (both sides bundled from src/
 * the same way, loaded fresh), old and new iterations interleaved (measureInterleaved); reportBeside prints
 * both medians and new/old.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { createConnection } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

export interface Sample {
  name: string;
  /** Milliseconds per iteration, sorted. */
  ms: number[];
}

export interface MeasureOptions {
  iterations?: number;
  warmup?: number;
}

export async function measure(name: string, fn: () => unknown | Promise<unknown>, opts: MeasureOptions = {}): Promise<Sample> {
  const { iterations = 30, warmup = 3 } = opts;
  for (let i = 0; i < warmup; i++) await fn();
  const ms: number[] = [];
  for (let i = 0; i < iterations; i++) {
    const t = performance.now();
    await fn();
    ms.push(performance.now() - t);
  }
  return { name, ms: ms.sort((a, b) => a - b) };
}

/** Times a whole process (fork + exec + run); fails loudly if the command fails. */
export async function measureProcess(name: string, cmd: string, args: string[], opts: MeasureOptions & { env?: NodeJS.ProcessEnv; input?: string } = {}): Promise<Sample> {
  return measure(
    name,
    () => {
      const r = spawnSync(cmd, args, { env: opts.env ?? process.env, input: opts.input, stdio: ['pipe', 'ignore', 'pipe'] });
      if (r.status !== 0) throw new Error(`${name}: ${cmd} exited ${r.status}: ${r.stderr?.toString().slice(0, 500)}`);
    },
    { iterations: opts.iterations ?? 15, warmup: opts.warmup ?? 2 },
  );
}

export function median(s: Sample): number {
  const m = s.ms.length >> 1;
  return s.ms.length % 2 ? s.ms[m]! : (s.ms[m - 1]! + s.ms[m]!) / 2;
}

function pct(s: Sample, p: number): number {
  return s.ms[Math.min(s.ms.length - 1, Math.floor((s.ms.length - 1) * p))]!;
}

/** Prints a table: median, p90, and each row's ratio to the baseline (first argument). */
export function report(title: string, baseline: Sample, others: Sample[]): void {
  const base = median(baseline);
  const rows = [baseline, ...others].map((s) => ({
    name: s === baseline ? `${s.name} (baseline)` : s.name,
    median: median(s),
    p90: pct(s, 0.9),
    n: s.ms.length,
    ratio: median(s) / base,
  }));
  const w = Math.max(...rows.map((r) => r.name.length), 10);
  console.log(`\n## ${title}`);
  console.log(`${'what'.padEnd(w)}  ${'median ms'.padStart(10)}  ${'p90 ms'.padStart(9)}  ${'n'.padStart(4)}  ratio`);
  for (const r of rows) {
    console.log(`${r.name.padEnd(w)}  ${r.median.toFixed(3).padStart(10)}  ${r.p90.toFixed(3).padStart(9)}  ${String(r.n).padStart(4)}  ${r.ratio.toFixed(2)}x`);
  }
}

/** The older build of QKS_BENCH_BEFORE: its checkout (nearest directory with a package.json) and its CLI bundle. */
export const before: { root: string; cli: string } | undefined = (() => {
  const given = process.env.QKS_BENCH_BEFORE;
  if (!given) return undefined;
  const path = resolve(given);
  const cli = statSync(path).isDirectory() ? join(path, 'dist/qemu-kubesolo.mjs') : path;
  let root = dirname(cli);
  while (!existsSync(join(root, 'package.json'))) {
    if (dirname(root) === root) throw new Error(`QKS_BENCH_BEFORE=${given}: no checkout (package.json) above it`);
    root = dirname(root);
  }
  if (!existsSync(cli)) throw new Error(`QKS_BENCH_BEFORE: ${cli} is missing (npm ci && npm run build in ${root})`);
  return { root, cli };
})();

/**
 * The same modules (paths relative to a checkout, e.g. 'src/iso/build.ts') of the older checkout and of
 * this one, each side bundled the same way into one file inside its checkout (so its own node_modules
 * resolve) and loaded fresh: neither side's code has run before, so both start from the same JIT state.
 * One namespace per path, in order; `oldPaths` where a module lived elsewhere in the older checkout.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function besideModules(paths: string[], oldPaths: string[] = paths): Promise<{ old: Record<string, any>[]; new: Record<string, any>[] }> {
  if (!before) throw new Error('besideModules needs QKS_BENCH_BEFORE');
  const load = async (root: string, paths: string[]) => {
    const { build } = await import('esbuild');
    const outfile = join(root, '.cache/bench-beside', `${paths.map((p) => p.replace(/\W+/g, '_')).join('+')}.mjs`);
    const contents = paths.map((p, i) => `export * as m${i} from './${p}';`).join('\n');
    await build({ stdin: { contents, resolveDir: root, loader: 'ts' }, outfile, bundle: true, platform: 'node', format: 'esm', packages: 'external', logLevel: 'warning' });
    const ns = await import(pathToFileURL(outfile).href);
    return paths.map((_, i) => ns[`m${i}`]);
  };
  return { old: await load(before.root, oldPaths), new: await load(process.cwd(), paths) };
}

let collect: (() => void) | undefined;
/** A full garbage collection, between timed calls (bench.mjs starts node without --expose-gc). */
function fullGc(): void {
  if (!collect) {
    setFlagsFromString('--expose-gc');
    collect = runInNewContext('gc') as () => void;
  }
  collect();
}

/**
 * Candidates measured interleaved: every iteration runs each once, in a random order, so drift on a
 * shared machine hits every one alike. Not a fixed A B B A: a garbage collection every fourth large
 * allocation would then land on the same candidate each time. `gc`: collect before every timed call
 * (rows that allocate megabytes; too slow for sub-millisecond rows). Returns one sample per candidate.
 */
export async function measureInterleaved(rows: { name: string; fn: () => unknown | Promise<unknown> }[], opts: MeasureOptions & { gc?: boolean } = {}): Promise<Sample[]> {
  const { iterations = 30, warmup = 3 } = opts;
  const ms = rows.map(() => [] as number[]);
  for (let i = 0; i < warmup + iterations; i++) {
    const order = rows.map((_, k) => k);
    for (let j = order.length - 1; j > 0; j--) {
      const r = Math.floor(Math.random() * (j + 1));
      [order[j], order[r]] = [order[r]!, order[j]!];
    }
    for (const k of order) {
      if (opts.gc) fullGc();
      const t = performance.now();
      await rows[k]!.fn();
      if (i >= warmup) ms[k]!.push(performance.now() - t);
    }
  }
  return rows.map((r, k) => ({ name: r.name, ms: ms[k]!.sort((a, b) => a - b) }));
}

export function loadAverage(): string {
  return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
}

/** Old and new side by side: each row's two medians and new/old (above 1.05: more than 5 % slower). */
export function reportBeside(title: string, rows: { name: string; old: Sample; new: Sample }[]): void {
  const w = Math.max(...rows.map((r) => r.name.length), 10);
  console.log(`\n## ${title}: before (QKS_BENCH_BEFORE) and this build, interleaved; load average ${loadAverage()}`);
  console.log(`${'what'.padEnd(w)}  ${'old ms'.padStart(9)}  ${'new ms'.padStart(9)}  ${'n'.padStart(4)}  new/old`);
  for (const r of rows) {
    const ratio = median(r.new) / median(r.old);
    console.log(`${r.name.padEnd(w)}  ${median(r.old).toFixed(3).padStart(9)}  ${median(r.new).toFixed(3).padStart(9)}  ${String(r.new.ms.length).padStart(4)}  ${ratio.toFixed(3)}x${ratio > 1.05 ? '  (more than 5 % slower)' : ''}`);
  }
}

/**
 * The baseline agent client: one command on a fresh connection (0xFF flush, guest-sync-delimited, the
 * command), resolving with its `return`. Nothing but `net` and line splitting, as a minimal client would.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function bareRoundTrip(sock: string, command: string, args: Record<string, unknown> = {}): Promise<any> {
  return new Promise((resolve, reject) => {
    const c = createConnection(sock);
    const id = Math.floor(Math.random() * 2 ** 31);
    let synced = false;
    let buf = '';
    c.on('error', reject);
    c.on('data', (d) => {
      buf += d.toString('latin1').replaceAll('\xff', '');
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl).trim();
        buf = buf.slice(nl + 1);
        if (!line) continue;
        let msg: any;
        try {
          msg = JSON.parse(line);
        } catch {
          continue;
        }
        if (!synced) {
          if (msg.return === id) {
            synced = true;
            c.write(JSON.stringify({ execute: command, arguments: args }) + '\n');
          }
          continue;
        }
        c.destroy();
        if (msg.error) reject(new Error(msg.error.desc));
        else resolve(msg.return);
      }
    });
    c.on('connect', () => c.write(Buffer.concat([Buffer.from([0xff]), Buffer.from(JSON.stringify({ execute: 'guest-sync-delimited', arguments: { id } }) + '\n')])));
  });
}

/**
 * The start of a minimal Python qemu-ga client (stdlib only), for whole-process baselines: defines
 * `agent(path)`, which connects, sends 0xFF and guest-sync-delimited, waits for its id and returns
 * `call(command, arguments=None)` -> the reply's `return`; and `read(call, path)` -> a guest file's bytes.
 */
export const PY_QGA_CLIENT = String.raw`
import socket, json, sys, base64, random, os, time
def agent(path):
    s = socket.socket(socket.AF_UNIX); s.connect(path); r = s.makefile('rb')
    i = random.randint(1, 1 << 30)
    s.sendall(b'\xff' + json.dumps({'execute': 'guest-sync-delimited', 'arguments': {'id': i}}).encode())
    while True:
        l = r.readline()
        if l.startswith(b'\xff') and json.loads(l[1:])['return'] == i: break
    def call(c, a=None):
        s.sendall(json.dumps({'execute': c, **({'arguments': a} if a else {})}).encode()); return json.loads(r.readline())['return']
    return call
def read(call, f):
    h = call('guest-file-open', {'path': f}); d = call('guest-file-read', {'handle': h, 'count': 65536}); call('guest-file-close', {'handle': h})
    return base64.b64decode(d['buf-b64'])
`;
