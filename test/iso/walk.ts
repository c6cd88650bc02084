/**
 * A small, strict ISO 9660 walker for tests: reads a hierarchy from its volume descriptor and checks
 * invariants real readers assume (both-endian halves agree, records never cross a sector boundary,
 * '.' and '..' come first and point at the right extents).
 */
import { expect } from 'vitest';

export const SECTOR = 2048;

export function le32(b: Uint8Array, off: number): number {
  return (b[off]! | (b[off + 1]! << 8) | (b[off + 2]! << 16) | (b[off + 3]! << 24)) >>> 0;
}
export function be32(b: Uint8Array, off: number): number {
  return ((b[off]! << 24) | (b[off + 1]! << 16) | (b[off + 2]! << 8) | b[off + 3]!) >>> 0;
}
export function le16(b: Uint8Array, off: number): number {
  return b[off]! | (b[off + 1]! << 8);
}
export function be16(b: Uint8Array, off: number): number {
  return (b[off]! << 8) | b[off + 1]!;
}
/** A both-endian 32-bit field; fails the test when the halves differ. */
export function both32(b: Uint8Array, off: number): number {
  const v = le32(b, off);
  expect(be32(b, off + 4), `both-endian field at ${off}`).toBe(v);
  return v;
}
export function both16(b: Uint8Array, off: number): number {
  const v = le16(b, off);
  expect(be16(b, off + 2), `both-endian field at ${off}`).toBe(v);
  return v;
}
export function text(b: Uint8Array, off: number, len: number): string {
  return Buffer.from(b.subarray(off, off + len)).toString('latin1');
}
export function ucs2text(b: Uint8Array, off: number, len: number): string {
  let s = '';
  for (let i = 0; i < len; i += 2) s += String.fromCharCode(be16(b, off + i));
  return s;
}

export interface WalkedRecord {
  at: number;
  length: number;
  id: Uint8Array;
  extent: number;
  size: number;
  flags: number;
  systemUse: Uint8Array;
}

export function readRecord(b: Uint8Array, at: number): WalkedRecord {
  const length = b[at]!;
  const idLen = b[at + 32]!;
  const suStart = at + 33 + idLen + (idLen % 2 === 0 ? 1 : 0);
  return {
    at,
    length,
    id: b.subarray(at + 33, at + 33 + idLen),
    extent: both32(b, at + 2),
    size: both32(b, at + 10),
    flags: b[at + 25]!,
    systemUse: b.subarray(suStart, at + length),
  };
}

/** Every record of a directory extent, checking that none crosses a sector boundary. */
export function readDirectory(b: Uint8Array, extent: number, size: number): WalkedRecord[] {
  const out: WalkedRecord[] = [];
  const start = extent * SECTOR;
  let pos = start;
  while (pos < start + size) {
    const len = b[pos]!;
    if (len === 0) {
      pos = (Math.floor((pos - start) / SECTOR) + 1) * SECTOR + start; // padding to the next sector
      continue;
    }
    expect(Math.floor((pos - start) / SECTOR), `record at ${pos} crosses a sector boundary`).toBe(Math.floor((pos - start + len - 1) / SECTOR));
    expect(len % 2, 'record length is even').toBe(0);
    out.push(readRecord(b, pos));
    pos += len;
  }
  return out;
}

export interface WalkedFile {
  path: string;
  size: number;
  extent: number;
  record: WalkedRecord;
}

/** Walks a hierarchy from its root record; names decoded with `decode`. */
export function walk(b: Uint8Array, root: WalkedRecord, decode: (id: Uint8Array) => string): { files: WalkedFile[]; dirs: string[] } {
  const files: WalkedFile[] = [];
  const dirs: string[] = [''];
  const visit = (dir: WalkedRecord, parent: WalkedRecord, prefix: string) => {
    const recs = readDirectory(b, dir.extent, dir.size);
    expect(Array.from(recs[0]!.id)).toEqual([0]);
    expect(recs[0]!.extent).toBe(dir.extent);
    expect(Array.from(recs[1]!.id)).toEqual([1]);
    expect(recs[1]!.extent).toBe(parent.extent);
    for (const r of recs.slice(2)) {
      const name = decode(r.id);
      const path = prefix ? `${prefix}/${name}` : name;
      if (r.flags & 2) {
        dirs.push(path);
        visit(r, dir, path);
      } else {
        files.push({ path, size: r.size, extent: r.extent, record: r });
      }
    }
  };
  visit(root, root, '');
  return { files, dirs };
}

/** Rock Ridge NM name from a record's system-use area (follows no CE: names fit inline or are checked elsewhere). */
export function susp(su: Uint8Array): Array<{ sig: string; body: Uint8Array }> {
  const out: Array<{ sig: string; body: Uint8Array }> = [];
  let p = 0;
  while (p + 4 <= su.length && su[p + 2]! >= 4) {
    out.push({ sig: String.fromCharCode(su[p]!, su[p + 1]!), body: su.subarray(p + 4, p + su[p + 2]!) });
    p += su[p + 2]!;
  }
  return out;
}

/** SUSP entries of a record, continuation areas included. */
export function suspAll(b: Uint8Array, su: Uint8Array): Array<{ sig: string; body: Uint8Array }> {
  const out = susp(su);
  const ce = out.find((e) => e.sig === 'CE');
  if (!ce) return out;
  const block = both32(ce.body, 0), offset = both32(ce.body, 8), length = both32(ce.body, 16);
  expect(offset + length, 'continuation area stays in one sector').toBeLessThanOrEqual(SECTOR);
  return [...out.filter((e) => e.sig !== 'CE'), ...suspAll(b, b.subarray(block * SECTOR + offset, block * SECTOR + offset + length))];
}
