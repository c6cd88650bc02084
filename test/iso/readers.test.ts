/**
 * Our ISO images read back by readers nobody here wrote: isoinfo (cdrkit), xorriso (libisofs),
 * bsdtar (libarchive), 7z and blkid (util-linux). Plus a property test: random file sets extracted
 * by bsdtar come back byte for byte.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { buildIso, type IsoFile } from '../../src/iso/build.js';
import { describeWithPeers, sh } from '../helpers/peers.js';

const seed: IsoFile[] = [
  { path: 'user-data', data: '#cloud-config\nhostname: vm1\nusers:\n  - name: alpine\n' },
  { path: 'meta-data', data: 'instance-id: vm1\nlocal-hostname: vm1\n' },
  { path: 'network-config', data: 'version: 2\nethernets:\n  eth0:\n    dhcp4: true\n' },
  { path: 'vendor-data', data: '' },
  { path: 'scripts/setup.sh', data: '#!/bin/sh\necho hi\n', mode: 0o755 },
];

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'qks-iso-readers-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function writeIso(name: string, files: IsoFile[], options?: Parameters<typeof buildIso>[1]): string {
  const path = join(dir, name);
  writeFileSync(path, buildIso(files, options));
  return path;
}

/** Every regular file under `root`, as relative path → bytes. */
function readTree(root: string, prefix = ''): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  for (const e of readdirSync(join(root, prefix), { withFileTypes: true })) {
    const rel = prefix ? `${prefix}/${e.name}` : e.name;
    if (e.isDirectory()) for (const [k, v] of readTree(root, rel)) out.set(k, v);
    else out.set(rel, readFileSync(join(root, rel)));
  }
  return out;
}

function extractWithBsdtar(iso: string): Map<string, Buffer> {
  const to = mkdtempSync(join(dir, 'x-'));
  sh('bsdtar', ['-xf', iso, '-C', to]);
  const tree = readTree(to);
  rmSync(to, { recursive: true, force: true });
  return tree;
}

const asBuffer = (d: string | Uint8Array) => (typeof d === 'string' ? Buffer.from(d, 'utf8') : Buffer.from(d));

describeWithPeers('cidata.iso read by isoinfo, xorriso, bsdtar, 7z and blkid', ['isoinfo', 'xorriso', 'bsdtar', '7z', 'blkid'], () => {
  it('isoinfo -d sees the label, Joliet level 3 and Rock Ridge', () => {
    const out = sh('isoinfo', ['-d', '-i', writeIso('d.iso', seed)]);
    expect(out).toContain('Volume id: cidata');
    expect(out).toContain('Joliet with UCS level 3 found');
    expect(out).toContain('Rock Ridge signatures version 1 found');
    expect(out).toContain('Logical block size is: 2048');
  });

  it('isoinfo -J -f and -R -f list the real names; -R -l shows the POSIX modes', () => {
    const iso = writeIso('f.iso', seed);
    const want = ['/meta-data', '/network-config', '/scripts', '/scripts/setup.sh', '/user-data', '/vendor-data'];
    expect(sh('isoinfo', ['-J', '-f', '-i', iso]).trim().split('\n').sort()).toEqual(want);
    expect(sh('isoinfo', ['-R', '-f', '-i', iso]).trim().split('\n').sort()).toEqual(want);
    const long = sh('isoinfo', ['-R', '-l', '-i', iso]);
    expect(long).toMatch(/-r--r--r-- +1 +0 +0 +\d+ .* user-data/);
    expect(long).toMatch(/-rwxr-xr-x +1 +0 +0 +\d+ .* setup\.sh/);
    expect(long).toMatch(/dr-xr-xr-x +3 +0 +0 +2048 .* \.\s*$/m);
    expect(sh('isoinfo', ['-R', '-x', '/user-data', '-i', iso])).toBe(seed[0]!.data);
    expect(sh('isoinfo', ['-J', '-x', '/network-config', '-i', iso])).toBe(seed[2]!.data);
  });

  it('xorriso loads the tree without complaint and shows modes and sizes', () => {
    const r = spawnSync('xorriso', ['-indev', writeIso('x.iso', seed), '-find', '/', '-exec', 'lsdl'], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stderr).not.toMatch(/WARNING|SORRY|FAILURE|MISHAP/);
    expect(r.stderr).toContain("Volume id    : 'cidata'");
    expect(r.stdout).toMatch(/-r--r--r-- .* 0 +0 +\d+ .*'\/meta-data'/);
    expect(r.stdout).toMatch(/-rwxr-xr-x .* 18 .*'\/scripts\/setup\.sh'/);
    expect(r.stdout).toMatch(/-r--r--r-- .* 0 .*'\/vendor-data'/);
  });

  it('bsdtar lists and extracts every file byte for byte', () => {
    const iso = writeIso('t.iso', seed);
    expect(sh('bsdtar', ['-tf', iso]).trim().split('\n').sort()).toEqual(['.', 'meta-data', 'network-config', 'scripts', 'scripts/setup.sh', 'user-data', 'vendor-data']);
    const tree = extractWithBsdtar(iso);
    expect([...tree.keys()].sort()).toEqual(seed.map((f) => f.path).sort());
    for (const f of seed) expect(tree.get(f.path)!.equals(asBuffer(f.data))).toBe(true);
  });

  it('7z lists the Joliet names and sizes', () => {
    const out = sh('7z', ['l', '-slt', writeIso('7.iso', seed)]);
    for (const f of seed) expect(out).toContain(`Path = ${f.path}\nFolder = -\nSize = ${asBuffer(f.data).byteLength}\n`);
  });

  it('blkid finds TYPE=iso9660 and LABEL=cidata (the Joliet label is UCS-2 big-endian too)', () => {
    const out = sh('blkid', ['-p', '-o', 'export', writeIso('b.iso', seed)]);
    expect(out).toMatch(/^TYPE=iso9660$/m);
    expect(out).toMatch(/^LABEL=cidata$/m);
    const custom = sh('blkid', ['-p', '-o', 'export', writeIso('b2.iso', seed, { volumeId: 'config-2' })]);
    expect(custom).toMatch(/^LABEL=config-2$/m);
  });

  it('handles 0, 2048, 2049 bytes and 16 MiB, 300 files in one directory and 7 levels of directories', () => {
    const big = new Uint8Array(16 * 1024 * 1024).map((_, i) => (i * 7) % 256);
    const files: IsoFile[] = [
      { path: 'zero', data: '' },
      { path: 'one-sector', data: new Uint8Array(2048).fill(1) },
      { path: 'just-over', data: new Uint8Array(2049).fill(2) },
      { path: 'big.bin', data: big },
      { path: 'a/b/c/d/e/f/g/deep.txt', data: 'deep' },
      ...Array.from({ length: 300 }, (_, i) => ({ path: `many/entry-number-${i}.yaml`, data: `n: ${i}\n` })),
    ];
    const iso = writeIso('big.iso', files);
    const tree = extractWithBsdtar(iso);
    expect(tree.size).toBe(files.length);
    for (const f of files) expect(tree.get(f.path)?.equals(asBuffer(f.data)), f.path).toBe(true);
    expect(sh('isoinfo', ['-R', '-f', '-i', iso])).toContain('/a/b/c/d/e/f/g/deep.txt');
    const slt = sh('7z', ['l', '-slt', iso]);
    expect(slt).toContain(`Path = big.bin\nFolder = -\nSize = ${big.byteLength}\n`);
    expect(slt.match(/^Path = many\/entry-number-/gm)).toHaveLength(300);
    const x = spawnSync('xorriso', ['-indev', iso, '-find', '/many', '-type', 'f'], { encoding: 'utf8', maxBuffer: 1 << 24 });
    expect(x.status).toBe(0);
    expect(x.stdout.trim().split('\n')).toHaveLength(300);
  });

  it('isoinfo follows continuation areas for 64-character Rock Ridge names', () => {
    const name = 'a-very-long-cloud-init-file-name-that-needs-a-continuation-0123';
    expect(name.length).toBe(63);
    const iso = writeIso('long.iso', [{ path: name, data: 'x' }, { path: `${name}4`, data: 'y' }]);
    expect(sh('isoinfo', ['-R', '-f', '-i', iso]).trim().split('\n').sort()).toEqual([`/${name}`, `/${name}4`]);
    expect([...extractWithBsdtar(iso).keys()].sort()).toEqual([name, `${name}4`]);
  });

  it('property: random file sets extract back equal through bsdtar', () => {
    const component = fc.stringMatching(/^[A-Za-z0-9._ \-éü日]{1,20}$/).filter((s) => s !== '.' && s !== '..');
    const size = fc.oneof(fc.constantFrom(0, 1, 2047, 2048, 2049, 4096), fc.integer({ min: 0, max: 9000 }));
    const fileSet = fc
      .array(fc.record({ parts: fc.array(component, { minLength: 1, maxLength: 3 }), size, seed: fc.integer({ min: 0, max: 255 }) }), { minLength: 1, maxLength: 25 })
      .map((entries) => {
        // keep the first of duplicate paths, and drop files that would also be a directory
        const files: IsoFile[] = [];
        const kinds = new Map<string, 'file' | 'dir'>();
        for (const e of entries) {
          const path = e.parts.join('/');
          const dirs = e.parts.slice(0, -1).map((_, i) => e.parts.slice(0, i + 1).join('/'));
          if (kinds.has(path) || dirs.some((d) => kinds.get(d) === 'file')) continue;
          dirs.forEach((d) => kinds.set(d, 'dir'));
          kinds.set(path, 'file');
          files.push({ path, data: new Uint8Array(e.size).map((_, i) => (i + e.seed) % 256) });
        }
        return files;
      });
    fc.assert(
      fc.property(fileSet, (files) => {
        const iso = writeIso('prop.iso', files);
        const tree = extractWithBsdtar(iso);
        expect([...tree.keys()].sort()).toEqual(files.map((f) => f.path).sort());
        for (const f of files) expect(tree.get(f.path)!.equals(asBuffer(f.data)), f.path).toBe(true);
        expect(statSync(iso).size % 2048).toBe(0);
      }),
      { numRuns: 25 },
    );
  });
});
