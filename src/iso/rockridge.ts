/**
 * Rock Ridge (RRIP 1.12, IEEE P1282) over SUSP 1.12: the system-use entries that give Linux its real
 * names (NM), POSIX modes, link counts and inode numbers (PX) and timestamps (TF). Entries that do not
 * fit in a directory record go to a continuation area (CE).
 */
import { dirDate, u32both } from './records.js';

export const RRIP_ID = 'IEEE_P1282';
export const RRIP_DESCRIPTION = 'THE IEEE P1282 PROTOCOL PROVIDES SUPPORT FOR POSIX FILE SYSTEM SEMANTICS.';
export const RRIP_SOURCE = 'PLEASE CONTACT THE IEEE STANDARDS DEPARTMENT, PISCATAWAY, NJ, USA FOR THE P1282 SPECIFICATION.';

/** The length of a CE entry: reserved in a record whenever entries spill over. */
export const CE_LENGTH = 28;

function entry(sig: string, body: number): Uint8Array {
  const e = new Uint8Array(4 + body);
  e[0] = sig.charCodeAt(0);
  e[1] = sig.charCodeAt(1);
  e[2] = 4 + body;
  e[3] = 1; // entry version
  return e;
}

/** SUSP 5.3 SP: marks SUSP in use; first entry of the root's '.' record. No bytes skipped. */
export function sp(): Uint8Array {
  const e = entry('SP', 3);
  e[4] = 0xbe;
  e[5] = 0xef;
  e[6] = 0;
  return e;
}

/** SUSP 5.5 ER: names the extension (Rock Ridge) once, in the root's '.' record. */
export function er(): Uint8Array {
  const id = RRIP_ID, des = RRIP_DESCRIPTION, src = RRIP_SOURCE;
  const e = entry('ER', 4 + id.length + des.length + src.length);
  e[4] = id.length;
  e[5] = des.length;
  e[6] = src.length;
  e[7] = 1; // extension version
  let p = 8;
  for (const s of [id, des, src]) for (let i = 0; i < s.length; i++) e[p++] = s.charCodeAt(i);
  return e;
}

export interface PosixAttributes {
  /** Full st_mode: file type bits and permissions. */
  mode: number;
  nlink: number;
  uid: number;
  gid: number;
  ino: number;
}

export const S_IFDIR = 0o040000;
export const S_IFREG = 0o100000;

/** RRIP 4.1.1 PX (RRIP 1.12 form, with the serial number): 44 bytes. */
export function px(a: PosixAttributes): Uint8Array {
  const e = entry('PX', 40);
  u32both(e, 4, a.mode);
  u32both(e, 12, a.nlink);
  u32both(e, 20, a.uid);
  u32both(e, 28, a.gid);
  u32both(e, 36, a.ino);
  return e;
}

/** RRIP 4.1.6 TF: modification, access and attribute-change times, 7-byte form. */
export function tf(epoch: number): Uint8Array {
  const e = entry('TF', 1 + 3 * 7);
  e[4] = 0x02 | 0x04 | 0x08; // MODIFY | ACCESS | ATTRIBUTES
  for (let i = 0; i < 3; i++) dirDate(e, 5 + 7 * i, epoch);
  return e;
}

/** RRIP 4.1.4 NM: the real name as UTF-8 bytes (names are checked to fit one entry). */
export function nm(nameUtf8: Uint8Array): Uint8Array {
  const e = entry('NM', 1 + nameUtf8.length);
  e[4] = 0; // flags: not continued, not '.'/'..'
  e.set(nameUtf8, 5);
  return e;
}

/** SUSP 5.1 CE: where the rest of this record's entries are (block, offset in it, length). */
export function ce(block: number, offset: number, length: number): Uint8Array {
  const e = entry('CE', 24);
  u32both(e, 4, block);
  u32both(e, 12, offset);
  u32both(e, 20, length);
  return e;
}

/** The longest NM name that always fits: one entry's length byte covers at most 250 name bytes. */
export const NM_MAX_NAME_BYTES = 250;
