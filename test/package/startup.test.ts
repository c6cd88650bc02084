/**
 * What a start of the bundle loads (scripts/bundle.mjs): `--version` is answered by the loader itself,
 * and built-in modules a verb does not use (child_process, zlib, tls) stay unloaded. Speed itself is
 * measured in bench/startup.bench.ts, never asserted here.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRealAgent, type AgentPeer } from '../agent/peers.js';
import { describeWithPeers } from '../helpers/peers.js';
import { ED25519_KEY } from '../cloudinit/keys.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
let dir: string;
let bundle: string;
let hook: string;

/** Runs the bundle; returns its exit status, stdout and the built-in modules the process loaded. */
function run(file: string, args: string[], env: NodeJS.ProcessEnv = { HOME: join(dir, 'home') }): { status: number | null; stdout: string; stderr: string; builtins: Set<string> } {
  const r = spawnSync(process.execPath, ['--require', hook, file, ...args], { cwd: dir, encoding: 'utf8', env: { PATH: '/usr/bin:/bin', ...env }, timeout: 30_000 });
  const line = r.stderr.split('\n').find((l) => l.startsWith('MODULES '));
  const builtins = new Set((JSON.parse(line?.slice(8) ?? '[]') as string[]).filter((m) => m.startsWith('NativeModule ')).map((m) => m.slice(13)));
  return { status: r.status, stdout: r.stdout, stderr: r.stderr.replace(/^MODULES .*\n?/m, ''), builtins };
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'qks-startup-'));
  bundle = join(dir, 'qemu-kubesolo.cjs');
  execFileSync(process.execPath, [join(root, 'scripts/bundle.mjs'), bundle]);
  hook = join(dir, 'hook.cjs');
  // write(2), not process.stderr: creating that stream (a pipe here) would load node:net itself
  writeFileSync(hook, `process.on('exit', () => require('fs').writeSync(2, 'MODULES ' + JSON.stringify(process.moduleLoadList) + '\\n'));\n`);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('bundle start-up', () => {
  it('answers --version (and -V) in the loader: no chunk, no pack, no node:vm, nothing in the cache directory', () => {
    const traced = join(dir, 'traced.cjs');
    execFileSync(process.execPath, [join(root, 'scripts/bundle.mjs'), traced, '--trace']);
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
    const home = join(dir, 'home-version');
    for (const flag of ['--version', '-V']) {
      const r = run(traced, [flag], { HOME: home });
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toBe(`${pkg.version}\n`);
      expect(r.stderr).toBe(''); // the trace loader prints a line per chunk it loads
      expect(r.builtins.has('vm'), 'vm').toBe(false);
    }
    expect(existsSync(home)).toBe(false);
    // the whole CLI is far bigger: --help compiles every verb
    const help = run(traced, ['--help']).stderr.split('\n').filter((l) => l.startsWith('{'));
    expect(help.reduce((n, l) => n + ((JSON.parse(l) as { bytes?: number }).bytes ?? 0), 0)).toBeGreaterThan(100_000);
  });

  it('--version to a stdout that cannot take it: a clean error (exit 1 for a full disk, 141 for a closed pipe)', () => {
    const full = spawnSync('sh', ['-c', `"${process.execPath}" "${bundle}" --version > /dev/full`], { encoding: 'utf8', env: {} });
    expect(full.status).toBe(1);
    expect(full.stderr).toMatch(/^error: cannot write to stdout: ENOSPC.*\[STDOUT_FAILED\]\n/);
    expect(full.stderr).not.toMatch(/\n\s+at /);
    // a reader that is already gone (`true` exits long before node has started): exit 141, quietly
    const closed = spawnSync('bash', ['-o', 'pipefail', '-c', `"${process.execPath}" "${bundle}" --version | true`], { encoding: 'utf8', env: {} });
    expect(closed.status).toBe(141);
    expect(closed.stderr).not.toMatch(/qemu-kubesolo|STDOUT|\n\s+at /);
  });

  it('refuses to run a damaged or replaced file (chunks at stale offsets) with one clear line', () => {
    const damaged = join(dir, 'damaged.cjs');
    writeFileSync(damaged, readFileSync(bundle, 'latin1') + 'x', 'latin1');
    const r = run(damaged, ['iso', '--help']);
    expect(r.status).toBe(1);
    expect(r.stderr.trim()).toBe(`error: ${damaged} is not the file this run started from (replaced or damaged): run the command again, or reinstall it`);
  });

  it('loads no child_process, zlib or tls for --version', () => {
    const r = run(bundle, ['--version']);
    expect(r.status).toBe(0);
    for (const m of ['child_process', 'zlib', 'tls']) expect(r.builtins.has(m), m).toBe(false);
  });

  // its files go through src/files/fs.ts; its chunks are stored compressed (scripts/bundle.mjs HOT_ENTRIES),
  // and a run its pack serves takes their source from the pack
  it('artifacts --create-iso loads no fs/promises, and once its pack is written no zlib either', () => {
    const hash = '$6$benchsalt$0kQCiHldjG5kuj8v4yzRhjGa58r4Kq.bbzhE43OQbldhEO7AGV.3.DNU3G9BMAIW5y72HXigxRHEilIdGP80o0';
    const env = { HOME: mkdtempSync(join(dir, 'home-')) };
    const artifacts = () => run(bundle, ['artifacts', '--output-dir', join(dir, 'seed-builtins'), '--create-iso', '--ssh-key', ED25519_KEY, '--password-hash', hash, '--quiet'], env);
    const first = artifacts();
    expect(first.status, first.stderr).toBe(0);
    expect(first.builtins.has('fs/promises')).toBe(false);
    const served = artifacts();
    expect(served.status, served.stderr).toBe(0);
    for (const m of ['zlib', 'fs/promises']) expect(served.builtins.has(m), m).toBe(false);
  });

  it('loads child_process only when a verb spawns something: not for iso --help', () => {
    const r = run(bundle, ['iso', '--help']);
    expect(r.status).toBe(0);
    expect(r.builtins.has('child_process')).toBe(false);
  });
});

/** The chunks a traced run loaded, as the trace loader prints them (`packed`: from the verb's pack, not compiled alone). */
function traced(stderr: string): { id: string; bytes: number; packed?: boolean }[] {
  return stderr
    .split('\n')
    .filter((l) => l.startsWith('{') && !l.includes('"builtin"') && !l.startsWith('{"id":"pack"'))
    .map((l) => JSON.parse(l) as { id: string; bytes: number; packed?: boolean });
}

/** The trace's line for the verb's pack (scripts/bundle.mjs COMPILE_CACHE), when the run used one. */
function packOf(stderr: string): { chunks: number; gen: number; cacheRejected: boolean } | undefined {
  const line = stderr.split('\n').find((l) => l.startsWith('{"id":"pack"'));
  return line === undefined ? undefined : JSON.parse(line);
}

/** Where a pack's source ends and V8's cache begins (scripts/bundle.mjs openPack). */
const sourceEnd = (b: Buffer) => 4 + b.readUInt32LE(0) + (JSON.parse(b.toString('latin1', 4, 4 + b.readUInt32LE(0))) as { src: number }).src;

// stdout is written with write(2) (src/cli/output.ts); a descriptor its giver left non-blocking and full
// (EAGAIN) goes through Node's stream, which waits: the output still arrives whole, after what was there
const NONBLOCKING_FULL_STDOUT = String.raw`
import os, fcntl, subprocess, sys, time
r, w = os.pipe()
fcntl.fcntl(w, fcntl.F_SETFL, fcntl.fcntl(w, fcntl.F_GETFL) | os.O_NONBLOCK)
n = 0
try:
    while True: n += os.write(w, b'x' * 4096)
except BlockingIOError: pass
p = subprocess.Popen(sys.argv[1:], stdout=w)
os.close(w)
time.sleep(0.3)
data = b''
while True:
    d = os.read(r, 65536)
    if not d: break
    data += d
sys.stdout.write(str(p.wait()) + ' ' + data[n:].decode())
`;

describeWithPeers('bundle stdout', ['python3'], () => {
  it('a non-blocking stdout that is full (EAGAIN) still gets the whole output: --version and a verb', () => {
    for (const args of [['--version'], ['iso', '--help']]) {
      const r = spawnSync('python3', ['-c', NONBLOCKING_FULL_STDOUT, process.execPath, bundle, ...args], { encoding: 'utf8', timeout: 30_000 });
      expect(r.stdout, r.stderr).toMatch(args[0] === '--version' ? /^0 \d+\.\d+\.\d+\n$/ : /^0 Usage: qemu-kubesolo iso/);
    }
  });
});

describe('bundle compile cache', () => {
  let tracedBundle: string;
  beforeAll(() => {
    tracedBundle = join(dir, 'cache-traced.cjs');
    execFileSync(process.execPath, [join(root, 'scripts/bundle.mjs'), tracedBundle, '--trace']);
  });
  const cacheFiles = (home: string) => {
    const base = join(home, '.cache', 'qemu-kubesolo');
    if (!existsSync(base)) return [];
    return readdirSync(base).flatMap((v) => readdirSync(join(base, v)).flatMap((verb) => readdirSync(join(base, v, verb)).map((f) => join(base, v, verb, f))));
  };

  it('keeps one pack per verb under ~/.cache/qemu-kubesolo (0600 in 0700 directories): the source of the chunks it ran and their V8 code cache', () => {
    const home = mkdtempSync(join(dir, 'home-'));
    const first = run(tracedBundle, ['iso', '--help'], { HOME: home });
    expect(first.status, first.stderr).toBe(0);
    expect(packOf(first.stderr)).toBeUndefined(); // nothing to use yet
    const files = cacheFiles(home);
    expect(files).toHaveLength(1);
    const [pack] = files as [string];
    expect(pack).toMatch(new RegExp(`/v8-${process.version}-${process.arch}/iso/pack-[0-9a-f]{16}\\.v8$`));
    expect(statSync(pack).mode & 0o777).toBe(0o600);
    expect(statSync(join(pack, '..')).mode & 0o777).toBe(0o700);
    expect(statSync(join(pack, '..', '..')).mode & 0o777).toBe(0o700);
    const compiledOnly = statSync(pack).size;
    // V8's part starts 8-aligned in the pack, so V8 uses it where it was read instead of copying it
    expect(sourceEnd(readFileSync(pack)) % 8).toBe(0);
    // the second run takes every chunk from the pack (compiled, not yet run: generation 1) and writes it
    // back with the functions it ran; the third reads it all and writes nothing. The iso verb's chunks
    // are stored compressed in the file (it is not a start-up goal): only the first run inflated them.
    expect(first.builtins.has('zlib')).toBe(true);
    const second = run(tracedBundle, ['iso', '--help'], { HOME: home });
    expect(second.stdout).toBe(first.stdout);
    expect(packOf(second.stderr)).toMatchObject({ gen: 1, cacheRejected: false });
    const chunks = traced(second.stderr);
    expect(chunks.every((c) => c.packed)).toBe(true);
    expect(chunks).toHaveLength(packOf(second.stderr)!.chunks);
    expect(second.builtins.has('zlib')).toBe(false);
    expect(statSync(pack).size).toBeGreaterThan(compiledOnly);
    expect(sourceEnd(readFileSync(pack)) % 8).toBe(0);
    const mtimes = cacheFiles(home).map((f) => statSync(f).mtimeMs);
    const third = run(tracedBundle, ['iso', '--help'], { HOME: home });
    expect(third.stdout).toBe(first.stdout);
    expect(packOf(third.stderr)).toMatchObject({ gen: 2, cacheRejected: false });
    expect(cacheFiles(home).map((f) => statSync(f).mtimeMs)).toEqual(mtimes);
    // another verb has its own set (a cache holds the functions its verb ran, not only the top level)
    expect(run(tracedBundle, ['agent', '--help'], { HOME: home }).status).toBe(0);
    expect(readdirSync(join(pack, '..', '..')).sort()).toEqual(['agent', 'iso']);
  });

  it("drops other builds' packs of a verb (a day old) when it writes that verb's", () => {
    const cache = mkdtempSync(join(dir, 'cache-'));
    const verbDir = join(cache, `v8-${process.version}-${process.arch}`, 'iso');
    mkdirSync(verbDir, { recursive: true, mode: 0o700 });
    writeFileSync(join(verbDir, 'pack-0123456789abcdef.v8'), 'an older build');
    writeFileSync(join(verbDir, 'pack-fedcba9876543210.v8'), 'another version, run today');
    writeFileSync(join(verbDir, '0123456789abcdef.v8'), "an older layout's cache of one chunk");
    const twoDaysAgo = new Date(Date.now() - 2 * 86_400_000);
    utimesSync(join(verbDir, 'pack-0123456789abcdef.v8'), twoDaysAgo, twoDaysAgo);
    utimesSync(join(verbDir, '0123456789abcdef.v8'), twoDaysAgo, twoDaysAgo);
    expect(run(bundle, ['iso', '--help'], { QKS_COMPILE_CACHE: cache }).status).toBe(0);
    const left = readdirSync(verbDir);
    expect(left).not.toContain('pack-0123456789abcdef.v8');
    expect(left).not.toContain('0123456789abcdef.v8');
    expect(left).toContain('pack-fedcba9876543210.v8');
    expect(left.filter((f) => /^pack-[0-9a-f]{16}\.v8$/.test(f))).toHaveLength(2);
  });

  it('writes no cache after a failed run (it would hold only the failure path)', () => {
    const home = mkdtempSync(join(dir, 'home-'));
    expect(run(tracedBundle, ['iso', '--no-such-flag'], { HOME: home }).status).toBe(2);
    expect(cacheFiles(home)).toEqual([]);
  });

  it('recovers from corrupt caches: compiles as usual and writes good ones', () => {
    const home = mkdtempSync(join(dir, 'home-'));
    const first = run(tracedBundle, ['iso', '--help'], { HOME: home });
    const [pack] = cacheFiles(home) as [string];
    // not a pack at all
    writeFileSync(pack, 'not a code cache');
    const r = run(tracedBundle, ['iso', '--help'], { HOME: home });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe(first.stdout);
    expect(packOf(r.stderr)).toBeUndefined();
    expect(packOf(run(tracedBundle, ['iso', '--help'], { HOME: home }).stderr)).toMatchObject({ cacheRejected: false });
    // a pack cut short (its source ends past the file's end): not used
    const whole = readFileSync(pack);
    writeFileSync(pack, whole.subarray(0, sourceEnd(whole) - 1));
    const short = run(tracedBundle, ['iso', '--help'], { HOME: home });
    expect(short.stdout).toBe(first.stdout);
    expect(packOf(short.stderr)).toBeUndefined();
    // a pack whose header and source read but whose V8 cache is damaged: V8 refuses it and compiles, the run writes a good one
    const b = readFileSync(pack);
    const at = sourceEnd(b);
    writeFileSync(pack, Buffer.concat([b.subarray(0, at), Buffer.alloc(b.length - at, 0x55)]));
    const damaged = run(tracedBundle, ['iso', '--help'], { HOME: home });
    expect(damaged.stdout).toBe(first.stdout);
    expect(packOf(damaged.stderr)).toMatchObject({ cacheRejected: true });
    expect(packOf(run(tracedBundle, ['iso', '--help'], { HOME: home }).stderr)).toMatchObject({ cacheRejected: false, gen: 2 });
  });

  it('writes nothing with QKS_COMPILE_CACHE=0, or without HOME', () => {
    const home = mkdtempSync(join(dir, 'home-'));
    expect(run(bundle, ['iso', '--help'], { HOME: home, QKS_COMPILE_CACHE: '0' }).status).toBe(0);
    expect(readdirSync(home)).toEqual([]);
    const cwd = mkdtempSync(join(dir, 'cwd-'));
    const r = spawnSync(process.execPath, [bundle, 'iso', '--help'], { cwd, env: {}, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(readdirSync(cwd)).toEqual([]);
  });

  it('uses the directory QKS_COMPILE_CACHE names', () => {
    const cache = mkdtempSync(join(dir, 'cache-'));
    expect(run(bundle, ['iso', '--help'], { QKS_COMPILE_CACHE: cache }).status).toBe(0);
    expect(readdirSync(cache)).toEqual([`v8-${process.version}-${process.arch}`]);
    expect(readdirSync(join(cache, `v8-${process.version}-${process.arch}`))).toEqual(['iso']);
  });
});

describeWithPeers('bundle start-up against the real qemu-ga', ['qemu-ga'], () => {
  let agent: AgentPeer;
  beforeAll(async () => (agent = await startRealAgent()));
  afterAll(async () => agent?.close());

  // the per-socket lock binds without net.Server#listen's cluster check (src/agent/lock.ts), and hashes
  // without node:crypto
  it('agent ping loads no tls, cluster, child_process, crypto or zlib', () => {
    // a first run (no pack yet) inflates nothing: its chunks are stored plain (scripts/bundle.mjs HOT_ENTRIES)
    const r = run(bundle, ['agent', 'ping', '--socket', agent.socketPath], { HOME: mkdtempSync(join(dir, 'home-')) });
    expect(r.status, r.stderr).toBe(0);
    for (const m of ['tls', 'cluster', 'child_process', 'crypto', 'dgram', 'zlib']) expect(r.builtins.has(m), m).toBe(false);
  });

  // a first run (no pack yet): its chunks are stored plain (scripts/bundle.mjs HOT_ENTRIES), nothing to
  // inflate; the atomic write's temp name is no node:crypto (src/files/atomic.ts)
  it('kubeconfig --socket loads no zlib or crypto', () => {
    const r = run(bundle, ['kubeconfig', '--socket', agent.socketPath, '--remote-path', join(root, 'fixtures/kubeconfig/admin.kubeconfig'), '--api-server', '10.0.0.50', '--output', join(dir, 'kc-zlib.out'), '--no-verify-server', '--quiet'], { HOME: mkdtempSync(join(dir, 'home-')) });
    expect(r.status, r.stderr).toBe(0);
    for (const m of ['zlib', 'crypto']) expect(r.builtins.has(m), m).toBe(false);
  });

  // Node's AbortController and EventTarget cost ~1 ms the first time a process uses them: the command
  // signal is a Cancellation (src/deadline.ts), and withWait does without AbortSignal.any
  it('agent ping, agent cat and kubeconfig --socket make no AbortController and add no AbortSignal listener', () => {
    const counter = join(dir, 'abort-hook.cjs');
    writeFileSync(
      counter,
      `let made = 0, listened = 0;
const AC = globalThis.AbortController;
globalThis.AbortController = class extends AC { constructor() { super(); made++; } };
const any = AbortSignal.any, add = EventTarget.prototype.addEventListener;
AbortSignal.any = function (...a) { made++; return any.apply(this, a); };
EventTarget.prototype.addEventListener = function (...a) { if (this instanceof AbortSignal) listened++; return add.apply(this, a); };
process.on('exit', () => require('fs').writeSync(2, 'ABORT ' + made + ' ' + listened + '\\n'));
`,
    );
    const guestFile = join(root, 'fixtures/kubeconfig/admin.kubeconfig');
    for (const args of [
      ['agent', 'ping', '--socket', agent.socketPath],
      ['agent', 'cat', '--socket', agent.socketPath, guestFile],
      ['kubeconfig', '--socket', agent.socketPath, '--remote-path', guestFile, '--api-server', '10.0.0.50', '--output', join(dir, 'kc-abort.out'), '--no-verify-server', '--quiet'],
    ]) {
      const r = spawnSync(process.execPath, ['--require', counter, bundle, ...args], { cwd: dir, encoding: 'utf8', env: { PATH: '/usr/bin:/bin', HOME: join(dir, 'home') }, timeout: 30_000 });
      expect(r.status, r.stderr).toBe(0);
      expect(/ABORT (\d+) (\d+)/.exec(r.stderr)?.slice(1), args.slice(0, 2).join(' ')).toEqual(['0', '0']);
    }
  });

  // scripts/bundle.mjs COMPILE_CACHE: a verb's pack holds its chunks' source beside their code cache, so a
  // run it serves reads nothing of the file past what Node itself reads (the file's size is what every start pays)
  it("a run served by its pack reads none of the file's chunks: agent cat with the chunks' text blanked out", () => {
    const tracedFile = join(dir, 'layout.cjs');
    execFileSync(process.execPath, [join(root, 'scripts/bundle.mjs'), tracedFile, '--trace']);
    const home = mkdtempSync(join(dir, 'home-'));
    const text = join(dir, 'layout.txt');
    writeFileSync(text, 'a */ is restored\n');
    const cat = () => run(tracedFile, ['agent', 'cat', '--socket', agent.socketPath, text], { HOME: home });
    expect(cat().status).toBe(0);
    expect(packOf(cat().stderr)).toMatchObject({ gen: 1 });
    const file = readFileSync(tracedFile, 'latin1');
    // an escaped chunk (one whose text held `*/`) is marked, and only such a chunk
    const index = JSON.parse(/const index=(\{.*?\}),STAMP/.exec(file)![1]!) as Record<string, [number, number, number, 1?]>;
    const body = (a: [number, number, number, 1?]) => file.slice(file.length - 3 - a[0], file.length - 3 - a[0] + a[1]);
    for (const [id, a] of Object.entries(index)) if (!a[2]) expect(a[3] === 1, id).toBe(body(a).includes('*\x01/'));
    // every chunk's text turned to spaces, the fingerprint and the loader kept: a read of any chunk would fail
    const start = file.lastIndexOf('\n/*\n') + 4;
    const end = file.length - 3 - 16;
    writeFileSync(tracedFile, file.slice(0, start) + ' '.repeat(end - start) + file.slice(end), 'latin1');
    const served = cat();
    expect(served.status, served.stderr).toBe(0);
    expect(served.stdout).toBe('a */ is restored\n');
    expect(traced(served.stderr).every((c) => c.packed)).toBe(true);
  });

  it("a verb's pack grows by the chunks a run needed (kubeconfig --help: commander; yaml, for a flow-style file)", () => {
    const tracedFile = join(dir, 'pack-grows.cjs');
    execFileSync(process.execPath, [join(root, 'scripts/bundle.mjs'), tracedFile, '--trace']);
    const home = mkdtempSync(join(dir, 'home-'));
    const block = join(root, 'fixtures/kubeconfig/admin.kubeconfig');
    const flow = join(dir, 'grows-flow.kubeconfig');
    writeFileSync(flow, readFileSync(block, 'utf8').replace('preferences: {}', 'preferences: {colors: true}'));
    const kc = (...args: string[]) => run(tracedFile, ['kubeconfig', ...args], { HOME: home });
    const read = (file: string) => kc('--socket', agent.socketPath, '--remote-path', file, '--api-server', '10.0.0.50', '--output', join(dir, 'grows.out'), '--no-verify-server', '--quiet');
    expect(read(block).status).toBe(0);
    const served = read(block);
    expect(packOf(served.stderr)).toMatchObject({ gen: 1 });
    expect(traced(served.stderr).every((c) => c.packed)).toBe(true);
    const before = packOf(served.stderr)!.chunks;
    // --help goes through commander (src/cli/main.ts): chunks the fast path never loads
    const help = kc('--help');
    expect(help.status).toBe(0);
    expect(traced(help.stderr).some((c) => !c.packed)).toBe(true);
    const helpAgain = kc('--help');
    expect(helpAgain.stdout).toBe(help.stdout);
    expect(packOf(helpAgain.stderr)!.chunks).toBeGreaterThan(before);
    expect(traced(helpAgain.stderr).every((c) => c.packed)).toBe(true);
    expect(traced(read(block).stderr).every((c) => c.packed)).toBe(true);
    // a flow-style file loads the yaml library (src/kubeconfig/yaml-library.ts): its chunks join the pack
    const flowFirst = read(flow);
    expect(flowFirst.status, flowFirst.stderr).toBe(0);
    expect(traced(flowFirst.stderr).some((c) => !c.packed)).toBe(true);
    const flowAgain = read(flow);
    expect(flowAgain.status, flowAgain.stderr).toBe(0);
    expect(traced(flowAgain.stderr).every((c) => c.packed)).toBe(true);
    expect(packOf(flowAgain.stderr)!.chunks).toBeGreaterThan(packOf(helpAgain.stderr)!.chunks);
  });

  // the agent rows validate with plain parsers (src/options/parsers.ts): zod and yaml stay uncompiled
  it('agent ping, agent cat and kubeconfig --socket compile neither zod, yaml nor commander (the agent lines no channel discovery or SSH, kubeconfig no SSH read); artifacts no zod', () => {
    const file = join(dir, 'zod-free.cjs');
    const report = execFileSync(process.execPath, [join(root, 'scripts/bundle.mjs'), file, '--trace', '--report'], { encoding: 'utf8' });
    // "--report": a chunk's line ("ABCD.js 188.2K ...") then its inputs ("   zod 188.1K, ...")
    const lines = report.split('\n');
    const chunkOf = (pkg: string) => {
      const i = lines.findIndex((l) => new RegExp(`^\\s+${pkg} \\d`).test(l));
      expect(i, `no chunk holds ${pkg}:\n${report}`).toBeGreaterThan(0);
      return `./${lines[i - 1]!.split(' ')[0]}`;
    };
    const heavy = [chunkOf('zod'), chunkOf('yaml')];
    const commander = chunkOf('commander');
    // a --socket line reaches no VM by name: libvirt's channel discovery and the SSH code stay out (src/agent/vm-plan.ts, src/ssh/pool.ts)
    const byName = [chunkOf('libvirt/channels.ts'), chunkOf('ssh/connection.ts')];
    // an agent read of the kubeconfig runs no SSH: src/kubeconfig/fetch.ts imports ./ssh.ts for --method ssh only
    const sshRead = [chunkOf('kubeconfig/ssh.ts'), byName[1]!];
    const text = join(dir, 'cat-me.txt');
    writeFileSync(text, 'hello\n');
    for (const args of [['agent', 'ping', '--socket', agent.socketPath], ['agent', 'cat', '--socket', agent.socketPath, text]]) {
      const r = run(file, args);
      expect(r.status, r.stderr).toBe(0);
      const ids = traced(r.stderr).map((c) => c.id);
      expect(ids.length, args.join(' ')).toBeGreaterThan(3);
      for (const h of heavy) expect(ids, args.join(' ')).not.toContain(h);
      // src/cli/fast.ts runs these lines without commander
      expect(ids, args.join(' ')).not.toContain(commander);
      for (const c of byName) expect(ids, args.join(' ')).not.toContain(c);
    }
    // kubeconfig --socket validates its options and the file without zod, and reads Kubesolo's block
    // YAML without the yaml library (src/kubeconfig/block-yaml.ts); a flow-style file still loads it
    const kc = run(file, ['kubeconfig', '--socket', agent.socketPath, '--remote-path', join(root, 'fixtures/kubeconfig/admin.kubeconfig'), '--api-server', '10.0.0.50', '--output', join(dir, 'kc.out'), '--no-verify-server', '--quiet']);
    expect(kc.status, kc.stderr).toBe(0);
    for (const h of [...heavy, ...sshRead]) expect(traced(kc.stderr).map((c) => c.id)).not.toContain(h);
    const flow = join(dir, 'flow.kubeconfig');
    writeFileSync(flow, readFileSync(join(root, 'fixtures/kubeconfig/admin.kubeconfig'), 'utf8').replace('preferences: {}', 'preferences: {colors: true}'));
    const kcFlow = run(file, ['kubeconfig', '--socket', agent.socketPath, '--remote-path', flow, '--api-server', '10.0.0.50', '--output', join(dir, 'kc-flow.out'), '--no-verify-server', '--quiet']);
    expect(kcFlow.status, kcFlow.stderr).toBe(0);
    expect(traced(kcFlow.stderr).map((c) => c.id)).toEqual(expect.arrayContaining([heavy[1]]));
    expect(readFileSync(join(dir, 'kc-flow.out'), 'utf8')).toContain('server: https://10.0.0.50:6443');
    // and without commander (src/cli/fast.ts matchVerb)
    expect(traced(kc.stderr).map((c) => c.id)).not.toContain(commander);
    // artifacts renders YAML, but validates its options and the configuration without zod (SOURCE_DATE_EPOCH too)
    const seed = run(file, ['artifacts', '--output-dir', join(dir, 'seed'), '--create-iso', '--ssh-key', ED25519_KEY, '--quiet'], { HOME: join(dir, 'home'), SOURCE_DATE_EPOCH: '1700000000' });
    expect(seed.status, seed.stderr).toBe(0);
    expect(traced(seed.stderr).map((c) => c.id)).toEqual(expect.arrayContaining([heavy[1]]));
    expect(traced(seed.stderr).map((c) => c.id)).not.toContain(heavy[0]);
    // and the check itself sees them where they are used (the iso verb's options are still a zod object)
    expect(traced(run(file, ['iso', '--help']).stderr).map((c) => c.id)).toEqual(expect.arrayContaining([heavy[0]]));
  });
});
