// A real Linux kernel (Debian's, under QEMU TCG) mounts our cidata.iso from a SATA CD-ROM and reports
// each file's name, size, sha256 and mode: the names must be the long ones (Joliet / Rock Ridge), not
// 8.3 forms. Negative control: a plain ISO 9660 (genisoimage without -J -r) shows mangled names.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { buildIso, type IsoFile } from '../../src/iso/build.js';
import { describeWithPeers } from '../helpers/peers.js';
import { buildTestInitramfs } from './harness/initramfs.js';
import { bootTestVm, missingVmPeers, parseGuestFiles, type TestVm } from './harness/qemu.js';

const sha256 = (d: string | Uint8Array) => createHash('sha256').update(d).digest('hex');
const size = (d: string | Uint8Array) => (typeof d === 'string' ? Buffer.byteLength(d) : d.length);

/** Boots a guest with `iso`, waits for its report, returns the console. One VM at a time. */
async function kernelView(dir: string, iso: string): Promise<{ console: string; readyMs: number }> {
  let vm: TestVm | undefined;
  try {
    vm = await bootTestVm({ dir, iso, channels: [], noAgent: true });
    await vm.waitForConsole(/^QKS: ready/m, 180_000);
    return { console: vm.console(), readyMs: Date.now() - vm.startedAt };
  } finally {
    await vm?.kill();
  }
}

describeWithPeers(
  'cidata.iso seen by a real Linux kernel',
  ['qemu-system-x86_64', 'genisoimage'],
  () => {
    let dir: string;
    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'qks-ik-'));
      await buildTestInitramfs();
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));
    afterEach((ctx) => {
      if (ctx.task.result?.state === 'fail') console.log(`console logs kept under ${dir}`);
    });

    it('shows user-data, meta-data, network-config (and the rest) with exact sizes, hashes and modes', async () => {
      const files: IsoFile[] = [
        { path: 'user-data', data: '#cloud-config\nhostname: kernel-check\nusers:\n  - name: alpine\n', mode: 0o444 },
        { path: 'meta-data', data: 'instance-id: iid-kernel-check\nlocal-hostname: kernel-check\n', mode: 0o444 },
        { path: 'network-config', data: 'version: 2\nethernets:\n  eth0:\n    dhcp4: true\n', mode: 0o600 },
        { path: 'vendor-data', data: '', mode: 0o444 }, // empty file
        { path: 'exactly-one-sector.bin', data: new Uint8Array(2048).fill(7), mode: 0o644 },
        { path: 'a-rather-long-file-name-beyond-8.3-and-31-chars.yaml', data: new Uint8Array(300_000).map((_, i) => (i * 31) & 0xff), mode: 0o640 },
        { path: 'nested/dir/inner-file', data: 'inner\n', mode: 0o444 },
      ];
      const iso = join(dir, 'ours.iso');
      writeFileSync(iso, buildIso(files));
      const { console: text, readyMs } = await kernelView(join(dir, 'ours'), iso);
      console.log(`kernel view of our ISO: boot to ready ${readyMs} ms`);
      expect(text).toMatch(/^QKS: cidata: \/dev\/sr0 label cidata/m);
      const expected = files
        .map((f) => ({ name: f.path, size: size(f.data), sha256: sha256(f.data) }))
        .sort((a, b) => (a.name < b.name ? -1 : 1));
      expect(parseGuestFiles(text)).toEqual(expected);
      for (const f of files) expect(text).toContain(`QKS: mode: ${f.path} ${f.mode!.toString(8)}`);
    });

    it('negative control: plain ISO 9660 from genisoimage without -J -r shows 8.3 names', async () => {
      const src = join(dir, 'plain-src');
      execFileSync('mkdir', ['-p', src]);
      writeFileSync(join(src, 'user-data'), '#cloud-config\n');
      writeFileSync(join(src, 'meta-data'), 'instance-id: x\n');
      const iso = join(dir, 'plain.iso');
      execFileSync('genisoimage', ['-quiet', '-V', 'cidata', '-o', iso, src]);
      const { console: text } = await kernelView(join(dir, 'plain'), iso);
      const names = parseGuestFiles(text).map((f) => f.name);
      expect(names).toHaveLength(2);
      expect(names).not.toContain('user-data');
      expect(names).not.toContain('meta-data');
      console.log(`kernel view of a plain ISO 9660: ${names.join(', ')}`);
    });
  },
  missingVmPeers,
);
