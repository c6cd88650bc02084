import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isQksError } from '../errors.js';
import { decodeAll, encodeCommand, FrameDecoder, type Frame } from './framing.js';

const recorded = readFileSync(new URL('../../fixtures/agent/qemu-ga-7.2-session.bin', import.meta.url));
const recordedMeta = JSON.parse(readFileSync(new URL('../../fixtures/agent/qemu-ga-7.2-session.json', import.meta.url), 'utf8')) as { replies: number };

function decodeChunks(chunks: Uint8Array[], max?: number): Frame[] {
  const d = new FrameDecoder(max);
  return [...chunks.flatMap((c) => d.push(c)), ...d.end()];
}

describe('FrameDecoder on recorded qemu-ga 7.2 traffic', () => {
  const whole = decodeAll(recorded);

  it('finds the flush error, the sentinel, then every reply', () => {
    expect(whole.filter((f) => f.type === 'message')).toHaveLength(recordedMeta.replies);
    expect(whole[0]).toEqual({ type: 'message', value: { error: { class: 'GenericError', desc: "JSON parse error, stray '\uFFFD'" } } });
    expect(whole[1]).toEqual({ type: 'sentinel' });
    expect(whole[2]).toEqual({ type: 'message', value: { return: 424242 } });
    expect(whole.some((f) => f.type === 'garbage')).toBe(false);
  });

  // the stream can be cut anywhere: every split point must give the same frames (pg-protocol's rule)
  it('gives the same frames at every split point', () => {
    for (let i = 1; i < recorded.length; i++) {
      expect(decodeChunks([recorded.subarray(0, i), recorded.subarray(i)])).toEqual(whole);
    }
  });

  it('gives the same frames byte by byte and in three pieces', () => {
    expect(decodeChunks([...recorded].map((b) => Uint8Array.of(b)))).toEqual(whole);
    for (let i = 1; i < recorded.length; i += 97) {
      for (let j = i + 1; j < recorded.length; j += 89) {
        expect(decodeChunks([recorded.subarray(0, i), recorded.subarray(i, j), recorded.subarray(j)])).toEqual(whole);
      }
    }
  });

  it('does not depend on the caller keeping its chunk buffers', () => {
    const d = new FrameDecoder();
    const frames: Frame[] = [];
    const scratch = Buffer.alloc(64);
    for (let i = 0; i < recorded.length; i += 64) {
      const n = recorded.copy(scratch, 0, i, i + 64);
      frames.push(...d.push(scratch.subarray(0, n)));
      scratch.fill(0x20);
    }
    expect(frames).toEqual(whole);
  });
});

describe('FrameDecoder edge cases', () => {
  it('keeps braces, quotes and escapes inside strings', () => {
    const v = { return: { desc: 'a } { "quoted" \\ \\" }}}', nested: { x: ['{', '}'] }, u: '\u00e9\u{1f600}' } };
    const bytes = Buffer.from(JSON.stringify(v));
    expect(decodeAll(bytes)).toEqual([{ type: 'message', value: v }]);
    for (let i = 1; i < bytes.length; i++) expect(decodeChunks([bytes.subarray(0, i), bytes.subarray(i)])).toEqual([{ type: 'message', value: v }]);
  });

  it('drops a half object left from an earlier client at the sentinel', () => {
    const stale = Buffer.from('{"return": {"pid": 12, "x": "}');
    const frames = decodeAll(Buffer.concat([stale, Buffer.of(0xff), Buffer.from('{"return": 7}\n')]));
    expect(frames).toEqual([{ type: 'sentinel' }, { type: 'message', value: { return: 7 } }]);
  });

  it('reports bytes outside objects and broken objects as garbage, then goes on', () => {
    const frames = decodeAll(Buffer.from('hello {"a": 1} {nope} [1] {"b": 2}'));
    expect(frames).toEqual([
      { type: 'garbage', bytes: 5, text: 'hello' },
      { type: 'message', value: { a: 1 } },
      { type: 'garbage', bytes: 6, text: '{nope}' },
      { type: 'garbage', bytes: 3, text: '[1]' },
      { type: 'message', value: { b: 2 } },
    ]);
  });

  it('refuses an oversize message with PROTOCOL_ERROR instead of buffering it', () => {
    const d = new FrameDecoder(100);
    expect(d.push(Buffer.from('{"return": "' + 'x'.repeat(50)))).toEqual([]);
    let err: unknown;
    try {
      d.push(Buffer.from('y'.repeat(60)));
    } catch (e) {
      err = e;
    }
    expect(isQksError(err, 'PROTOCOL_ERROR')).toBe(true);
    expect(d.buffered).toBe(0);
    // a complete but oversize object in one chunk, too
    expect(() => new FrameDecoder(10).push(Buffer.from('{"return": 123456789}'))).toThrow(/exceeds 10 bytes/);
  });

  it('counts pending garbage and reports it at end()', () => {
    const d = new FrameDecoder();
    expect(d.push(Buffer.from('xyz'))).toEqual([]);
    expect(d.pendingGarbage).toBe(3);
    expect(d.end()).toEqual([{ type: 'garbage', bytes: 3, text: 'xyz' }]);
  });

  it('encodes commands as qemu-ga reads them', () => {
    expect(encodeCommand('guest-ping').toString()).toBe('{"execute":"guest-ping"}\n');
    expect(JSON.parse(encodeCommand('guest-sync', { id: 5 }).toString())).toEqual({ execute: 'guest-sync', arguments: { id: 5 } });
  });
});

describe('FrameDecoder properties', () => {
  const jsonObject = fc.dictionary(
    fc.string(),
    fc.oneof(fc.string(), fc.integer(), fc.boolean(), fc.constant(null), fc.array(fc.string({ unit: 'grapheme' })), fc.dictionary(fc.string(), fc.string())),
  );
  const item = fc.oneof(
    { weight: 5, arbitrary: fc.tuple(jsonObject, fc.boolean()).map(([v, nl]) => ({ kind: 'message' as const, v, nl })) },
    { weight: 1, arbitrary: fc.constant({ kind: 'sentinel' as const }) },
  );
  const splits = (len: number) => fc.uniqueArray(fc.integer({ min: 1, max: Math.max(1, len - 1) }), { maxLength: 8 }).map((a) => a.filter((x) => x < len).sort((x, y) => x - y));

  it('decodes any sequence of objects and sentinels, however the stream is cut', () => {
    fc.assert(
      fc.property(
        fc.array(item, { maxLength: 12 }).chain((items) => {
          const bytes = Buffer.concat(items.map((i) => (i.kind === 'sentinel' ? Buffer.of(0xff) : Buffer.from(JSON.stringify(i.v) + (i.nl ? '\n' : '')))));
          return fc.tuple(fc.constant(items), fc.constant(bytes), splits(bytes.length));
        }),
        ([items, bytes, cuts]) => {
          const chunks: Buffer[] = [];
          let prev = 0;
          for (const c of [...cuts, bytes.length]) {
            chunks.push(bytes.subarray(prev, c));
            prev = c;
          }
          const expected = items.map((i) => (i.kind === 'sentinel' ? { type: 'sentinel' } : { type: 'message', value: i.v }));
          expect(decodeChunks(chunks)).toEqual(expected);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('never throws on arbitrary bytes below the size bound, and buffers at most the bound', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 20 }), (chunks) => {
        const d = new FrameDecoder(1 << 20);
        for (const c of chunks) {
          d.push(c);
          expect(d.buffered).toBeLessThanOrEqual(1 << 20);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('recovers after a sentinel, whatever came before', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), jsonObject, (junk, v) => {
        const frames = decodeAll(Buffer.concat([junk, Buffer.of(0xff), Buffer.from(JSON.stringify(v))]));
        const afterLast = frames.slice(frames.map((f) => f.type).lastIndexOf('sentinel') + 1);
        expect(afterLast).toEqual([{ type: 'message', value: v }]);
      }),
      { numRuns: 300 },
    );
  });
});
