import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildIso, DEFAULT_ISO_EPOCH, type IsoFile } from '../../src/iso/build.js';
import { isQksError } from '../../src/errors.js';
import { SECTOR, be16, be32, both16, both32, le16, le32, readDirectory, readRecord, suspAll, text, ucs2text, walk } from './walk.js';

const seed: IsoFile[] = [
  { path: 'user-data', data: '#cloud-config\nhostname: vm1\n' },
  { path: 'meta-data', data: 'instance-id: vm1\nlocal-hostname: vm1\n' },
];

const pvdAt = 16 * SECTOR;
const svdAt = 17 * SECTOR;

function rootOf(iso: Uint8Array, vd: number) {
  return readRecord(iso, vd + 156);
}

describe('buildIso: volume descriptors', () => {
  const iso = buildIso(seed, { epoch: 1_700_000_000 });

  it('is whole sectors with a zero system area', () => {
    expect(iso.byteLength % SECTOR).toBe(0);
    expect(iso.subarray(0, 16 * SECTOR).every((x) => x === 0)).toBe(true);
  });

  it('has a primary volume descriptor with every field at its ECMA-119 offset', () => {
    expect(iso[pvdAt]).toBe(1);
    expect(text(iso, pvdAt + 1, 5)).toBe('CD001');
    expect(iso[pvdAt + 6]).toBe(1);
    expect(text(iso, pvdAt + 8, 32)).toBe('LINUX'.padEnd(32));
    expect(text(iso, pvdAt + 40, 32)).toBe('cidata'.padEnd(32));
    expect(iso.subarray(pvdAt + 72, pvdAt + 80).every((x) => x === 0)).toBe(true);
    expect(both32(iso, pvdAt + 80)).toBe(iso.byteLength / SECTOR); // volume space size
    expect(iso.subarray(pvdAt + 88, pvdAt + 120).every((x) => x === 0)).toBe(true); // no escape sequences
    expect(both16(iso, pvdAt + 120)).toBe(1); // volume set size
    expect(both16(iso, pvdAt + 124)).toBe(1); // sequence number
    expect(both16(iso, pvdAt + 128)).toBe(2048); // block size
    expect(both32(iso, pvdAt + 132)).toBe(10); // path table: the root only (8 + 1 + pad)
    expect(le32(iso, pvdAt + 144)).toBe(0); // optional tables absent
    expect(be32(iso, pvdAt + 152)).toBe(0);
    expect(text(iso, pvdAt + 574, 13)).toBe('QEMU-KUBESOLO');
    expect(text(iso, pvdAt + 813, 17)).toBe('2023111422132000\0');
    expect(text(iso, pvdAt + 830, 17)).toBe('2023111422132000\0');
    expect(text(iso, pvdAt + 847, 17)).toBe('0000000000000000\0');
    expect(iso[pvdAt + 881]).toBe(1);
    expect(iso.subarray(pvdAt + 883, pvdAt + SECTOR).every((x) => x === 0)).toBe(true);
  });

  it('has a root directory record of 34 bytes in the descriptor', () => {
    const r = rootOf(iso, pvdAt);
    expect(r.length).toBe(34);
    expect(Array.from(r.id)).toEqual([0]);
    expect(r.flags).toBe(2);
    expect(r.size).toBe(SECTOR);
    expect(Array.from(iso.subarray(pvdAt + 156 + 18, pvdAt + 156 + 25))).toEqual([123, 11, 14, 22, 13, 20, 0]);
  });

  it('has a Joliet supplementary descriptor: %/E and UCS-2 big-endian identifiers', () => {
    expect(iso[svdAt]).toBe(2);
    expect(text(iso, svdAt + 1, 5)).toBe('CD001');
    expect(text(iso, svdAt + 88, 3)).toBe('%/E');
    expect(ucs2text(iso, svdAt + 40, 32)).toBe('cidata'.padEnd(16));
    expect(ucs2text(iso, svdAt + 8, 32)).toBe('LINUX'.padEnd(16));
    expect(both32(iso, svdAt + 80)).toBe(iso.byteLength / SECTOR);
    expect(rootOf(iso, svdAt).extent).not.toBe(rootOf(iso, pvdAt).extent);
  });

  it('ends the descriptor set with a terminator', () => {
    const t = 18 * SECTOR;
    expect(iso[t]).toBe(255);
    expect(text(iso, t + 1, 6)).toBe('CD001\x01');
  });

  it('writes L and M path tables that agree, for both hierarchies', () => {
    for (const vd of [pvdAt, svdAt]) {
      const l = le32(iso, vd + 140) * SECTOR;
      const m = be32(iso, vd + 148) * SECTOR;
      expect(iso[l]).toBe(1); // root identifier length
      expect(iso[l + 8]).toBe(0);
      expect(le32(iso, l + 2)).toBe(rootOf(iso, vd).extent);
      expect(be32(iso, m + 2)).toBe(rootOf(iso, vd).extent);
      expect(le16(iso, l + 6)).toBe(1);
      expect(be16(iso, m + 6)).toBe(1);
    }
  });
});

describe('buildIso: directories and Rock Ridge', () => {
  it('names files 8.3 with ;1 in the primary tree and exactly in Joliet and Rock Ridge', () => {
    const iso = buildIso(seed);
    const primary = walk(iso, rootOf(iso, pvdAt), (id) => text(id, 0, id.length));
    expect(primary.files.map((f) => f.path)).toEqual(['META_DAT.;1', 'USER_DAT.;1']);
    const joliet = walk(iso, rootOf(iso, svdAt), (id) => ucs2text(id, 0, id.length));
    expect(joliet.files.map((f) => f.path)).toEqual(['meta-data', 'user-data']);
    const rr = primary.files.map((f) => Buffer.from(suspAll(iso, f.record.systemUse).find((e) => e.sig === 'NM')!.body.subarray(1)).toString());
    expect(rr).toEqual(['meta-data', 'user-data']);
    // both trees share the file data
    expect(primary.files.map((f) => f.extent)).toEqual(joliet.files.map((f) => f.extent));
  });

  it('puts SP first in the root "." record and ER in a continuation area', () => {
    const iso = buildIso(seed);
    const dot = readDirectory(iso, rootOf(iso, pvdAt).extent, SECTOR)[0]!;
    expect(text(dot.systemUse, 0, 2)).toBe('SP');
    const entries = suspAll(iso, dot.systemUse);
    expect(entries.map((e) => e.sig)).toEqual(['SP', 'PX', 'TF', 'ER']);
    const erBody = entries[3]!.body;
    expect(text(erBody, 4, erBody[0]!)).toBe('IEEE_P1282');
  });

  it('gives PX modes: 0444 files by default, the given mode otherwise, 0555 directories with link counts', () => {
    const iso = buildIso([...seed, { path: 'bin/run', data: 'x', mode: 0o755 }]);
    const primary = walk(iso, rootOf(iso, pvdAt), (id) => text(id, 0, id.length));
    const modeOf = (su: Uint8Array) => {
      const e = suspAll(iso, su).find((x) => x.sig === 'PX')!;
      return { mode: both32(e.body, 0), nlink: both32(e.body, 8) };
    };
    const byPath = Object.fromEntries(primary.files.map((f) => [f.path, modeOf(f.record.systemUse)]));
    expect(byPath['USER_DAT.;1']).toEqual({ mode: 0o100444, nlink: 1 });
    expect(byPath['BIN/RUN.;1']).toEqual({ mode: 0o100755, nlink: 1 });
    const rootDot = readDirectory(iso, rootOf(iso, pvdAt).extent, SECTOR)[0]!;
    expect(modeOf(rootDot.systemUse)).toEqual({ mode: 0o40555, nlink: 3 });
  });

  it('spreads a big directory over several sectors without records crossing a boundary', () => {
    const files = Array.from({ length: 300 }, (_, i) => ({ path: `many/file-with-a-long-name-${String(i).padStart(4, '0')}.yaml`, data: String(i) }));
    const iso = buildIso(files);
    for (const [vd, decode] of [
      [pvdAt, (id: Uint8Array) => text(id, 0, id.length)],
      [svdAt, (id: Uint8Array) => ucs2text(id, 0, id.length)],
    ] as const) {
      const tree = walk(iso, rootOf(iso, vd), decode);
      expect(tree.files).toHaveLength(300);
      const dir = readDirectory(iso, rootOf(iso, vd).extent, SECTOR)[2]!;
      expect(dir.size).toBeGreaterThan(SECTOR);
    }
    const primary = walk(iso, rootOf(iso, pvdAt), (id) => text(id, 0, id.length));
    expect(new Set(primary.files.map((f) => f.path)).size).toBe(300);
    for (const f of primary.files) expect(f.path).toMatch(/^MANY\/[A-Z0-9_]{1,8}\.[A-Z0-9_]{0,3};1$/);
  });

  it('property: path tables in ECMA-119 9.4 order (level, parent, name) pointing at the walked directories; records sorted', () => {
    // Byte order of identifiers padded with spaces (ISO 9660) or compared as UCS-2 code units (Joliet).
    const bytes = (a: Uint8Array, b: Uint8Array, pad: number) => {
      for (let i = 0; i < Math.max(a.length, b.length); i++) {
        const x = a[i] ?? pad, y = b[i] ?? pad;
        if (x !== y) return x - y;
      }
      return 0;
    };
    // ECMA-119 9.3: an ISO 9660 file identifier sorts by its name, then its extension (each padded with
    // spaces), then its version: "A.;1" before "A.0;1", though ';' > '0' byte by byte
    const parts = (id: Uint8Array) => {
      const text = Buffer.from(id).toString('latin1');
      const [nameExt = '', version = ''] = text.split(';');
      const dot = nameExt.indexOf('.');
      return (dot < 0 ? [nameExt, '', version] : [nameExt.slice(0, dot), nameExt.slice(dot + 1), version]).map((t) => Buffer.from(t, 'latin1'));
    };
    const cmp = (a: Uint8Array, b: Uint8Array, pad: number) => {
      if (pad !== 0x20) return bytes(a, b, pad);
      const [pa, pb] = [parts(a), parts(b)];
      for (let i = 0; i < 3; i++) {
        const c = bytes(pa[i]!, pb[i]!, 0x20);
        if (c) return c;
      }
      return 0;
    };
    const name = fc.stringMatching(/^[a-zA-Z0-9][a-zA-Z0-9._-]{0,9}$/);
    const paths = fc.uniqueArray(fc.array(name, { minLength: 1, maxLength: 4 }).map((p) => p.join('/')), { minLength: 1, maxLength: 20 });
    fc.assert(
      fc.property(paths, (list) => {
        let iso: Uint8Array;
        try {
          iso = buildIso(list.map((path) => ({ path, data: path })));
        } catch (e) {
          if (!isQksError(e, 'USAGE')) throw e; // a path that is also a directory, e.g. "a" and "a/b"
          return;
        }
        for (const [vd, pad] of [[pvdAt, 0x20], [svdAt, 0]] as const) {
          // every directory reached by walking: extent -> [level, parent extent]
          const walked = new Map<number, [number, number]>();
          const visit = (extent: number, size: number, parent: number, level: number) => {
            walked.set(extent, [level, parent]);
            const recs = readDirectory(iso, extent, size).slice(2);
            for (let i = 1; i < recs.length; i++) expect(cmp(recs[i - 1]!.id, recs[i]!.id, pad), 'directory records sorted').toBeLessThan(0);
            for (const r of recs) if (r.flags & 2) visit(r.extent, r.size, extent, level + 1);
          };
          const root = rootOf(iso, vd);
          visit(root.extent, root.size, root.extent, 1);
          const size = both32(iso, vd + 132);
          const rows: Array<{ id: Uint8Array; extent: number; parent: number }> = [];
          for (let p = le32(iso, vd + 140) * SECTOR, end = p + size; p < end; ) {
            const n = iso[p]!;
            rows.push({ id: iso.subarray(p + 8, p + 8 + n), extent: le32(iso, p + 2), parent: le16(iso, p + 6) });
            p += 8 + n + (n % 2);
          }
          expect(rows.map((r) => r.extent).sort()).toEqual([...walked.keys()].sort());
          for (const [i, r] of rows.entries()) {
            const [level, parentExtent] = walked.get(r.extent)!;
            expect(rows[r.parent - 1]!.extent, 'parent number').toBe(parentExtent);
            if (i === 0) continue;
            const prev = rows[i - 1]!;
            const order = walked.get(prev.extent)![0] - level || prev.parent - r.parent || cmp(prev.id, r.id, pad);
            expect(order, 'path table order').toBeLessThan(0);
          }
        }
      }),
      // the first: a name without an extension beside the same name with one (found by this property)
      { numRuns: 60, examples: [[['a.0', 'a']], [['A_B', 'a.b', 'a']]] },
    );
  });

  it('moves Rock Ridge entries of a long name to a continuation area', () => {
    const name = 'n'.repeat(64);
    const iso = buildIso([{ path: name, data: 'x' }]);
    const primary = walk(iso, rootOf(iso, pvdAt), (id) => text(id, 0, id.length));
    const entries = suspAll(iso, primary.files[0]!.record.systemUse);
    expect(Buffer.from(entries.find((e) => e.sig === 'NM')!.body.subarray(1)).toString()).toBe(name);
  });

  it('stores 0, 2048, 2049 and 16 MiB files at sector boundaries with exact sizes', () => {
    const big = new Uint8Array(16 * 1024 * 1024 + 1).map((_, i) => i % 251);
    const sizes = { empty: 0, one: 2048, more: 2049 } as const;
    const files: IsoFile[] = [...Object.entries(sizes).map(([path, n]) => ({ path, data: new Uint8Array(n).fill(7) })), { path: 'big', data: big }];
    const iso = buildIso(files);
    const tree = walk(iso, rootOf(iso, svdAt), (id) => ucs2text(id, 0, id.length));
    const total = iso.byteLength / SECTOR;
    for (const f of tree.files) {
      const want = f.path === 'big' ? big : new Uint8Array(sizes[f.path as keyof typeof sizes]).fill(7);
      expect(f.size).toBe(want.byteLength);
      expect(f.extent).toBeLessThan(total); // even an empty file points at a sector of the image
      expect(Buffer.from(iso.subarray(f.extent * SECTOR, f.extent * SECTOR + f.size)).equals(Buffer.from(want))).toBe(true);
    }
  });

  it('keeps an empty last file pointing inside the image', () => {
    const iso = buildIso([{ path: 'zzz', data: '' }]);
    const tree = walk(iso, rootOf(iso, svdAt), (id) => ucs2text(id, 0, id.length));
    expect(tree.files[0]!.extent).toBeLessThan(iso.byteLength / SECTOR);
  });
});

describe('buildIso: determinism', () => {
  it('gives the same bytes for the same input in any order', () => {
    const a = buildIso(seed, { epoch: 1_700_000_000 });
    const b = buildIso([...seed].reverse(), { epoch: 1_700_000_000 });
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);
  });

  it('changes only with the epoch, and defaults to a fixed one', () => {
    expect(Buffer.from(buildIso(seed)).equals(Buffer.from(buildIso(seed, { epoch: DEFAULT_ISO_EPOCH })))).toBe(true);
    expect(Buffer.from(buildIso(seed, { epoch: 1 })).equals(Buffer.from(buildIso(seed, { epoch: 2 })))).toBe(false);
  });

  it('property: any order of the same files gives the same bytes', () => {
    const files = fc.uniqueArray(fc.record({ path: fc.stringMatching(/^[a-z0-9-]{1,12}(\/[a-z0-9][a-z0-9.]{0,11})?$/), data: fc.string({ maxLength: 3000 }) }), {
      selector: (f) => f.path.split('/')[0],
      minLength: 1,
      maxLength: 12,
    });
    fc.assert(
      fc.property(files, fc.nat(), (list, seed) => {
        const shuffled = [...list].sort((a, b) => ((a.path.length * 31 + seed) % 7) - ((b.path.length * 31 + seed) % 7));
        expect(Buffer.from(buildIso(list, { epoch: seed })).equals(Buffer.from(buildIso(shuffled, { epoch: seed })))).toBe(true);
      }),
      { numRuns: 50 },
    );
  });

  it('treats string and byte data alike', () => {
    const bytes = seed.map((f) => ({ path: f.path, data: Buffer.from(f.data as string) }));
    expect(Buffer.from(buildIso(seed)).equals(Buffer.from(buildIso(bytes)))).toBe(true);
  });
});

describe('buildIso: bad input', () => {
  const usage = (fn: () => unknown, match: RegExp) => {
    try {
      fn();
    } catch (e) {
      expect(isQksError(e, 'USAGE'), String(e)).toBe(true);
      expect((e as Error).message).toMatch(match);
      return;
    }
    throw new Error('expected a USAGE error');
  };

  it.each([
    ['', /empty/],
    ['/abs', /empty/],
    ['a//b', /empty/],
    ['dir/', /empty/],
    ['a/../b', /not a file name/],
    ['x'.repeat(65), /64/],
    ['a:b', /Joliet/],
    ['tab\there', /control/],
    ['emoji-\u{1F600}', /Basic Multilingual Plane/],
    ['1/2/3/4/5/6/7/8/9', /nested/],
  ])('rejects the name %j', (path, match) => usage(() => buildIso([{ path, data: '' }]), match));

  it('rejects duplicate names and a file that is also a directory', () => {
    usage(() => buildIso([{ path: 'a', data: '' }, { path: 'a', data: 'x' }]), /twice/);
    usage(() => buildIso([{ path: 'a', data: '' }, { path: 'a/b', data: 'x' }]), /file and a directory/);
    usage(() => buildIso([{ path: 'a/b', data: '' }, { path: 'a', data: 'x' }]), /file and a directory/);
  });

  it.each([[''], ['x'.repeat(17)], ['with space'], ['dot.ted'], ['ümlaut']])('rejects the label %j', (label) =>
    usage(() => buildIso(seed, { volumeId: label }), /label/),
  );

  it('rejects epochs a directory record cannot hold, and bad modes', () => {
    usage(() => buildIso(seed, { epoch: -1 }), /timestamp/);
    usage(() => buildIso(seed, { epoch: 1.5 }), /timestamp/);
    usage(() => buildIso(seed, { epoch: 6e9 }), /timestamp/);
    usage(() => buildIso([{ path: 'a', data: '', mode: 0o10000 }]), /mode/);
  });

  it('accepts config-2 and upper-case labels', () => {
    const iso = buildIso(seed, { volumeId: 'config-2' });
    expect(text(iso, pvdAt + 40, 8)).toBe('config-2');
  });
});

describe('buildIso: cost', () => {
  it('spends well under 1 ms of CPU per KiB on a typical seed', () => {
    const userData = '#cloud-config\n' + 'packages: [curl]\n'.repeat(240); // ~4 KiB
    const files = [{ path: 'user-data', data: userData }, ...seed.slice(1)];
    const kib = (userData.length + (seed[1]!.data as string).length) / 1024;
    for (let i = 0; i < 20; i++) buildIso(files); // warm-up
    const before = process.cpuUsage();
    const runs = 200;
    for (let i = 0; i < runs; i++) buildIso(files);
    const cpu = process.cpuUsage(before);
    const usPerKiB = (cpu.user + cpu.system) / runs / kib;
    expect(usPerKiB).toBeLessThan(250); // measured about 15-60 µs/KiB on 2 shared cores
  });
});
