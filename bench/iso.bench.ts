/**
 * cidata.iso: our in-process writer vs genisoimage (the baseline; whole process, as users run it),
 * cloud-localds (which wraps genisoimage) and our whole CLI process, on the same files.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildIso } from '../src/iso/build.js';
import { measure, measureProcess, median, report } from './lib.js';

const dir = mkdtempSync(join(tmpdir(), 'qks-iso-bench-'));
const cli = join(process.cwd(), 'dist/qemu-kubesolo.mjs');
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
} finally {
  rmSync(dir, { recursive: true, force: true });
}
