/**
 * ECMA-119 (ISO 9660) byte layouts: the only code that writes numbers, dates and strings at offsets.
 * Every multi-byte number in a volume descriptor or directory record is "both-endian": little-endian
 * first, then the same value big-endian.
 */

export const SECTOR = 2048;
/** Sectors 0–15 are the system area; the volume descriptors start at 16. */
export const FIRST_DESCRIPTOR_SECTOR = 16;
/** A directory record without its file identifier and system-use area. */
export const DIR_RECORD_BASE = 33;
/** The directory record limit (LEN-DR is one byte; we keep records even, so 254). */
export const DIR_RECORD_MAX = 254;

export function u16le(b: Uint8Array, off: number, v: number): void {
  b[off] = v & 0xff;
  b[off + 1] = (v >>> 8) & 0xff;
}
export function u16be(b: Uint8Array, off: number, v: number): void {
  b[off] = (v >>> 8) & 0xff;
  b[off + 1] = v & 0xff;
}
export function u32le(b: Uint8Array, off: number, v: number): void {
  b[off] = v & 0xff;
  b[off + 1] = (v >>> 8) & 0xff;
  b[off + 2] = (v >>> 16) & 0xff;
  b[off + 3] = (v >>> 24) & 0xff;
}
export function u32be(b: Uint8Array, off: number, v: number): void {
  b[off] = (v >>> 24) & 0xff;
  b[off + 1] = (v >>> 16) & 0xff;
  b[off + 2] = (v >>> 8) & 0xff;
  b[off + 3] = v & 0xff;
}
/** ECMA-119 7.2.3: 16-bit both-endian (4 bytes). */
export function u16both(b: Uint8Array, off: number, v: number): void {
  u16le(b, off, v);
  u16be(b, off + 2, v);
}
/** ECMA-119 7.3.3: 32-bit both-endian (8 bytes). */
export function u32both(b: Uint8Array, off: number, v: number): void {
  u32le(b, off, v);
  u32be(b, off + 4, v);
}

/** Writes ASCII `s` into a fixed-width field padded with spaces (a- and d-character fields). */
export function asciiField(b: Uint8Array, off: number, width: number, s: string): void {
  for (let i = 0; i < width; i++) b[off + i] = i < s.length ? s.charCodeAt(i) & 0x7f : 0x20;
}

/** Writes `s` as UCS-2 big-endian into a fixed-width field padded with U+0020 (Joliet identifiers). */
export function ucs2Field(b: Uint8Array, off: number, width: number, s: string): void {
  let i = 0;
  for (; i < s.length && 2 * i + 1 < width; i++) u16be(b, off + 2 * i, s.charCodeAt(i));
  for (let p = off + 2 * i; p + 1 < off + width; p += 2) u16be(b, p, 0x0020);
}

/** `s` as UCS-2 big-endian bytes (Joliet file identifiers and path-table names). */
export function ucs2(s: string): Uint8Array {
  const out = new Uint8Array(s.length * 2);
  for (let i = 0; i < s.length; i++) u16be(out, 2 * i, s.charCodeAt(i));
  return out;
}

/** Plain ASCII bytes (d-character identifiers). */
export function ascii(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i) & 0x7f;
  return out;
}

/** The broken-down UTC time of `epoch` seconds. */
function utcParts(epoch: number): [number, number, number, number, number, number] {
  const d = new Date(epoch * 1000);
  return [d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate(), d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds()];
}

/** ECMA-119 9.1.5: the 7-byte recording date of a directory record (years since 1900 … GMT offset 0). */
export function dirDate(b: Uint8Array, off: number, epoch: number): void {
  const [y, mo, d, h, mi, s] = utcParts(epoch);
  b[off] = y - 1900;
  b[off + 1] = mo;
  b[off + 2] = d;
  b[off + 3] = h;
  b[off + 4] = mi;
  b[off + 5] = s;
  b[off + 6] = 0;
}

/** ECMA-119 8.4.26.1: the 17-byte volume descriptor date "YYYYMMDDHHMMSScc" + GMT offset; undefined = unset. */
export function volumeDate(b: Uint8Array, off: number, epoch: number | undefined): void {
  if (epoch === undefined) {
    asciiField(b, off, 16, '0000000000000000');
    b[off + 16] = 0;
    return;
  }
  const [y, mo, d, h, mi, s] = utcParts(epoch);
  const p2 = (n: number) => String(n).padStart(2, '0');
  asciiField(b, off, 16, `${String(y).padStart(4, '0')}${p2(mo)}${p2(d)}${p2(h)}${p2(mi)}${p2(s)}00`);
  b[off + 16] = 0;
}

/** The latest epoch a directory record can hold (year 1900 + 255). */
export const MAX_EPOCH = Date.UTC(2155, 11, 31, 23, 59, 59) / 1000;

export const FLAG_DIRECTORY = 0x02;

export interface DirRecord {
  /** File identifier bytes: 0x00 for '.', 0x01 for '..', else d-characters or UCS-2. */
  id: Uint8Array;
  extent: number;
  size: number;
  flags: number;
  /** System-use bytes (Rock Ridge); may be empty. */
  systemUse: Uint8Array;
}

/** The length of a directory record with this identifier and system-use area, rounded up to even. */
export function dirRecordLength(idLength: number, systemUseLength: number): number {
  const base = DIR_RECORD_BASE + idLength + (idLength % 2 === 0 ? 1 : 0);
  const len = base + systemUseLength;
  return len + (len % 2);
}

/** ECMA-119 9.1: writes one directory record at `off`; returns its length. */
export function writeDirRecord(b: Uint8Array, off: number, r: DirRecord, epoch: number): number {
  const len = dirRecordLength(r.id.length, r.systemUse.length);
  b[off] = len;
  b[off + 1] = 0; // extended attribute record length
  u32both(b, off + 2, r.extent);
  u32both(b, off + 10, r.size);
  dirDate(b, off + 18, epoch);
  b[off + 25] = r.flags;
  b[off + 26] = 0; // file unit size (not interleaved)
  b[off + 27] = 0; // interleave gap
  u16both(b, off + 28, 1); // volume sequence number
  b[off + 32] = r.id.length;
  b.set(r.id, off + 33);
  const su = off + 33 + r.id.length + (r.id.length % 2 === 0 ? 1 : 0);
  b.set(r.systemUse, su);
  return len;
}

export interface VolumeDescriptorFields {
  /** 1 = primary, 2 = supplementary (Joliet). */
  type: 1 | 2;
  /** Identifier strings are written as a-characters (primary) or UCS-2 big-endian (Joliet). */
  ucs2: boolean;
  systemId: string;
  volumeId: string;
  volumeSetId: string;
  publisherId: string;
  preparerId: string;
  applicationId: string;
  volumeSectors: number;
  pathTableSize: number;
  pathTableL: number;
  pathTableM: number;
  root: DirRecord;
  epoch: number;
}

/** ECMA-119 8.4 / Joliet: a primary or supplementary volume descriptor into one 2048-byte sector at `off`. */
export function writeVolumeDescriptor(b: Uint8Array, off: number, v: VolumeDescriptorFields): void {
  const text = v.ucs2 ? ucs2Field : asciiField;
  b[off] = v.type;
  asciiField(b, off + 1, 5, 'CD001');
  b[off + 6] = 1; // version
  text(b, off + 8, 32, v.systemId);
  text(b, off + 40, 32, v.volumeId);
  u32both(b, off + 80, v.volumeSectors);
  // Joliet UCS-2 level 3 escape sequence; zeros in the primary descriptor
  if (v.type === 2) asciiField(b, off + 88, 3, '%/E');
  u16both(b, off + 120, 1); // volume set size
  u16both(b, off + 124, 1); // volume sequence number
  u16both(b, off + 128, SECTOR); // logical block size
  u32both(b, off + 132, v.pathTableSize);
  u32le(b, off + 140, v.pathTableL);
  u32be(b, off + 148, v.pathTableM);
  writeDirRecord(b, off + 156, v.root, v.epoch);
  text(b, off + 190, 128, v.volumeSetId);
  text(b, off + 318, 128, v.publisherId);
  text(b, off + 446, 128, v.preparerId);
  text(b, off + 574, 128, v.applicationId);
  text(b, off + 702, 37, ''); // copyright file
  text(b, off + 739, 37, ''); // abstract file
  text(b, off + 776, 37, ''); // bibliographic file
  volumeDate(b, off + 813, v.epoch); // creation
  volumeDate(b, off + 830, v.epoch); // modification
  volumeDate(b, off + 847, undefined); // expiration
  volumeDate(b, off + 864, undefined); // effective
  b[off + 881] = 1; // file structure version
}

/** ECMA-119 8.3: the volume descriptor set terminator. */
export function writeTerminator(b: Uint8Array, off: number): void {
  b[off] = 255;
  asciiField(b, off + 1, 5, 'CD001');
  b[off + 6] = 1;
}

/** ECMA-119 9.4: the length of a path table record with an identifier of `idLength` bytes. */
export function pathRecordLength(idLength: number): number {
  return 8 + idLength + (idLength % 2);
}

/** Writes one path table record; `bigEndian` selects the M table. Returns its length. */
export function writePathRecord(b: Uint8Array, off: number, id: Uint8Array, extent: number, parent: number, bigEndian: boolean): number {
  b[off] = id.length;
  b[off + 1] = 0;
  if (bigEndian) {
    u32be(b, off + 2, extent);
    u16be(b, off + 6, parent);
  } else {
    u32le(b, off + 2, extent);
    u16le(b, off + 6, parent);
  }
  b.set(id, off + 8);
  return pathRecordLength(id.length);
}
