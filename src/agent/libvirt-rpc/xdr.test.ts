import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isQksError } from '../../errors.js';
import { XdrReader, XdrWriter } from './xdr.js';

describe('XDR codec', () => {
  it('encodes ints big-endian and strings length-prefixed, zero-padded to 4 bytes', () => {
    const b = new XdrWriter().int(-2).uint(0x20008086).string('qemu:///system').toBuffer();
    expect(b.toString('hex')).toBe('fffffffe' + '20008086' + '0000000e' + Buffer.from('qemu:///system').toString('hex') + '0000');
  });

  it('encodes an optional as a bool then the value', () => {
    expect(new XdrWriter().optional(null, (w, s: string) => w.string(s)).toBuffer().toString('hex')).toBe('00000000');
    expect(new XdrWriter().optional('a', (w, s) => w.string(s)).toBuffer().toString('hex')).toBe('00000001' + '00000001' + '61000000');
  });

  it('writes a fixed opaque without a length', () => {
    const uuid = Buffer.alloc(16, 0xab);
    expect(new XdrWriter().fixedOpaque(uuid, 16).toBuffer()).toEqual(uuid);
  });

  it('round-trips any sequence of values', () => {
    fc.assert(
      fc.property(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), fc.string({ unit: 'grapheme' }), fc.option(fc.string()), fc.uint8Array({ minLength: 16, maxLength: 16 }), (i, s, o, uuid) => {
        const b = new XdrWriter().int(i).string(s).optional(o, (w, v) => w.string(v)).fixedOpaque(uuid, 16).toBuffer();
        expect(b.length % 4).toBe(0);
        const r = new XdrReader(b);
        expect([r.int(), r.string(), r.optional((x) => x.string()), new Uint8Array(r.fixedOpaque(16))]).toEqual([i, s, o, uuid]);
        r.end('values');
      }),
    );
  });

  it('rejects truncated input, bad bools, oversized lengths and leftovers as PROTOCOL_ERROR', () => {
    const cases: Array<() => unknown> = [
      () => new XdrReader(Buffer.from('000000', 'hex')).int(),
      () => new XdrReader(Buffer.from('00000002', 'hex')).bool(),
      () => new XdrReader(Buffer.from('00000005616263', 'hex')).string(),
      () => new XdrReader(Buffer.from('ffffffff', 'hex')).string(),
      () => new XdrReader(Buffer.from('0000000500000000', 'hex')).array((r) => r.int(), 4),
      () => new XdrReader(Buffer.from('0000000000000000', 'hex')).end('x'),
    ];
    for (const c of cases) {
      let err: unknown;
      try {
        c();
      } catch (e) {
        err = e;
      }
      expect(isQksError(err, 'PROTOCOL_ERROR'), String(c)).toBe(true);
    }
  });
});
