import { describe, expect, it } from 'vitest';
import { dirDate, dirRecordLength, pathRecordLength, u16both, u32both, ucs2, ucs2Field, volumeDate, writeDirRecord, writePathRecord } from './records.js';
import { ce, er, nm, px, sp, tf } from './rockridge.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe('ISO 9660 byte layouts', () => {
  it('writes both-endian numbers little-endian first (ECMA-119 7.2.3, 7.3.3)', () => {
    const b = new Uint8Array(12);
    u32both(b, 0, 0x01020304);
    u16both(b, 8, 0x0800);
    expect(hex(b)).toBe('0403020101020304' + '00080800');
  });

  it('encodes directory record dates as years since 1900 in UTC', () => {
    const b = new Uint8Array(7);
    dirDate(b, 0, 1_700_000_000); // 2023-11-14T22:13:20Z
    expect(Array.from(b)).toEqual([123, 11, 14, 22, 13, 20, 0]);
  });

  it('encodes volume descriptor dates as 16 digits and an offset, zeros when unset', () => {
    const b = new Uint8Array(17);
    volumeDate(b, 0, 1_700_000_000);
    expect(Buffer.from(b.subarray(0, 16)).toString()).toBe('2023111422132000');
    expect(b[16]).toBe(0);
    volumeDate(b, 0, undefined);
    expect(Buffer.from(b.subarray(0, 16)).toString()).toBe('0000000000000000');
  });

  it('writes UCS-2 big-endian and pads Joliet fields with U+0020 (go-diskfs #391)', () => {
    expect(hex(ucs2('cidata'))).toBe('006300690064006100740061');
    const f = new Uint8Array(32);
    ucs2Field(f, 0, 32, 'cidata');
    expect(hex(f)).toBe('006300690064006100740061' + '0020'.repeat(10));
  });

  it('writes a directory record with padding after an even-length identifier', () => {
    const b = new Uint8Array(64);
    const len = writeDirRecord(b, 0, { id: Uint8Array.of(0x41, 0x42), extent: 20, size: 2048, flags: 2, systemUse: Uint8Array.of(9, 9) }, 0);
    expect(len).toBe(dirRecordLength(2, 2));
    expect(len).toBe(38); // 33 + 2 + 1 pad + 2
    expect(b[0]).toBe(38);
    expect(hex(b.subarray(2, 18))).toBe('14000000000000140008000000000800');
    expect(Array.from(b.subarray(18, 25))).toEqual([70, 1, 1, 0, 0, 0, 0]);
    expect(b[25]).toBe(2);
    expect(hex(b.subarray(28, 32))).toBe('01000001');
    expect(b[32]).toBe(2);
    expect(Array.from(b.subarray(33, 38))).toEqual([0x41, 0x42, 0, 9, 9]);
  });

  it('rounds a record with an odd system-use area up to an even length', () => {
    expect(dirRecordLength(1, 7)).toBe(34 + 7 + 1);
    expect(dirRecordLength(1, 0)).toBe(34);
  });

  it('writes L and M path table records', () => {
    const l = new Uint8Array(12), m = new Uint8Array(12);
    expect(writePathRecord(l, 0, Uint8Array.of(0x44, 0x49, 0x52), 0x1234, 1, false)).toBe(12);
    writePathRecord(m, 0, Uint8Array.of(0x44, 0x49, 0x52), 0x1234, 1, true);
    expect(hex(l)).toBe('03' + '00' + '34120000' + '0100' + '444952' + '00');
    expect(hex(m)).toBe('03' + '00' + '00001234' + '0001' + '444952' + '00');
    expect(pathRecordLength(1)).toBe(10);
  });
});

describe('Rock Ridge entries', () => {
  it('SP carries the check bytes BE EF and skips nothing', () => {
    expect(hex(sp())).toBe('535007' + '01' + 'beef' + '00');
  });

  it('ER names IEEE_P1282 with its description and source', () => {
    const e = er();
    expect(e[2]).toBe(e.length);
    expect(Buffer.from(e.subarray(8, 8 + e[4]!)).toString()).toBe('IEEE_P1282');
    expect(e[7]).toBe(1);
  });

  it('PX holds mode, links, uid, gid and serial number both-endian (44 bytes)', () => {
    const e = px({ mode: 0o100644, nlink: 1, uid: 0, gid: 0, ino: 7 });
    expect(e.length).toBe(44);
    expect(hex(e.subarray(0, 12))).toBe('50582c01' + 'a4810000000081a4');
    expect(hex(e.subarray(36, 44))).toBe('0700000000000007');
  });

  it('TF holds modify, access and attribute times', () => {
    const e = tf(0);
    expect(e.length).toBe(26);
    expect(e[4]).toBe(0x0e);
    expect(Array.from(e.subarray(5, 12))).toEqual([70, 1, 1, 0, 0, 0, 0]);
  });

  it('NM holds the UTF-8 name; CE points at block, offset and length', () => {
    expect(hex(nm(Buffer.from('user-data')))).toBe('4e4d0e0100' + Buffer.from('user-data').toString('hex'));
    const c = ce(30, 100, 186);
    expect(c.length).toBe(28);
    expect(hex(c.subarray(4, 28))).toBe('1e0000000000001e' + '6400000000000064' + 'ba000000000000ba');
  });
});
