/**
 * cidata.iso: our in-process writer vs genisoimage (the baseline; whole process, as users run it),
 * cloud-localds (which wraps genisoimage) and our whole CLI process, on the same files. With
 * QKS_BENCH_BEFORE (bench/lib.ts) the in-process writer and the CLI also run beside the older build's,
 * interleaved (a second table: old, new, new/old).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildIso } from '../src/iso/build.js';
import { before, besideModules, measure, measureInterleaved, measureProcess, median, report, reportBeside, type Sample } from './lib.js';

const dir = mkdtempSync(join(tmpdir(), 'qks-iso-bench-'));
const cli = join(process.cwd(), 'dist/qemu-kubesolo.mjs');
const beside = before ? await besideModules(['src/iso/build.ts']) : undefined;
const besideRows: { name: string; old: Sample; new: Sample }[] = [];
/** New and old interleaved, for the second table. */
async function pair(name: string, fnNew: () => unknown, fnOld: () => unknown, opts: { iterations: number; warmup: number; gc?: boolean }): Promise<void> {
  const [n, o] = await measureInterleaved([{ name, fn: fnNew }, { name, fn: fnOld }], opts);
  besideRows.push({ name, new: n!, old: o! });
}
try {
  // a typical seed: ~4 KiB user-data and a short meta-data
  const userData = '#cloud-config\n' + Array.from({ length: 100 }, (_, i) => `# line ${i}: ${'x'.repeat(24)}\n`).join('');
  const metaData = 'instance-id: bench\nlocal-hostname: bench\n';
  const ud = join(dir, 'user-data');
  const md = join(dir, 'meta-data');
  writeFileSync(ud, userData);
  writeFileSync(md, metaData);
  const seed = [
    { path: 'user-data', data: readFileSync(ud) },
    { path: 'meta-data', data: readFileSync(md) },
  ];
  const seedKiB = (userData.length + metaData.length) / 1024;

  const cpuBefore = process.cpuUsage();
  const inProc = await measure('buildIso in-process', () => buildIso(seed), { iterations: 2000, warmup: 200 });
  const cpu = process.cpuUsage(cpuBefore);
  const cpuPerKiBus = (cpu.user + cpu.system) / 2200 / seedKiB;
  const genisoimage = await measureProcess('genisoimage -volid cidata -joliet -rock', 'genisoimage', ['-quiet', '-o', join(dir, 'g.iso'), '-volid', 'cidata', '-joliet', '-rock', ud, md]);
  const localds = await measureProcess('cloud-localds', 'cloud-localds', [join(dir, 'c.iso'), ud, md]);
  const ours = await measureProcess('qemu-kubesolo iso (whole process)', process.execPath, [cli, 'iso', '-o', join(dir, 'q.iso'), ud, md]);
  const nodeStart = await measureProcess("node -e '' (start-up floor)", process.execPath, ['-e', '']);
  report(`typical seed (${seedKiB.toFixed(1)} KiB of files, ${buildIso(seed).byteLength} bytes of ISO)`, genisoimage, [inProc, ours, localds, nodeStart]);
  console.log(`in-process CPU: ${cpuPerKiBus.toFixed(2)} µs per KiB of input (target: well under 1000)`);

  // one 16 MiB file
  const bigData = new Uint8Array(16 * 1024 * 1024).map((_, i) => i % 251);
  const big = join(dir, 'big.bin');
  writeFileSync(big, bigData);
  const bigFiles = [{ path: 'big.bin', data: bigData }, ...seed];
  const bigIn = await measure('buildIso in-process', () => buildIso(bigFiles), { iterations: 15, warmup: 2 });
  const bigGen = await measureProcess('genisoimage -volid cidata -joliet -rock', 'genisoimage', ['-quiet', '-o', join(dir, 'gb.iso'), '-volid', 'cidata', '-joliet', '-rock', big, ud, md], { iterations: 10 });
  const bigOurs = await measureProcess('qemu-kubesolo iso (whole process)', process.execPath, [cli, 'iso', '-o', join(dir, 'qb.iso'), big, ud, md], { iterations: 10 });
  report('16 MiB file + seed', bigGen, [bigIn, bigOurs]);
  console.log(`in-process 16 MiB: ${(16 / (median(bigIn) / 1000)).toFixed(0)} MiB/s`);

  if (before && beside) {
    const [buildIsoNew, buildIsoOld] = [beside.new[0]!.buildIso as typeof buildIso, beside.old[0]!.buildIso as typeof buildIso];
    const proc = (c: string, args: string[]) => () => {
      const r = spawnSync(process.execPath, [c, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
      if (r.status !== 0) throw new Error(`${c}: ${r.stderr.toString().slice(0, 300)}`);
    };
    await pair('buildIso in-process, typical seed', () => buildIsoNew(seed), () => buildIsoOld(seed), { iterations: 2000, warmup: 200 });
    await pair('buildIso in-process, 16 MiB file + seed', () => buildIsoNew(bigFiles), () => buildIsoOld(bigFiles), { iterations: 40, warmup: 3, gc: true });
    await pair('qemu-kubesolo iso (whole process), typical seed', proc(cli, ['iso', '-o', join(dir, 'qn.iso'), ud, md]), proc(before.cli, ['iso', '-o', join(dir, 'qo.iso'), ud, md]), { iterations: 25, warmup: 2 });
    await pair('qemu-kubesolo iso (whole process), 16 MiB file + seed', proc(cli, ['iso', '-o', join(dir, 'qbn.iso'), big, ud, md]), proc(before.cli, ['iso', '-o', join(dir, 'qbo.iso'), big, ud, md]), { iterations: 25, warmup: 2 });
    reportBeside('cidata.iso', besideRows);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
