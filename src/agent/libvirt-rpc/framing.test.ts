import { describe, expect, it } from 'vitest';
import { isQksError } from '../../errors.js';
import { MessageDecoder, MessageStatus, MessageType, decodeMessage, encodeMessage, type MessageHeader } from './framing.js';

const header = (serial: number, procedure = 66): MessageHeader => ({
  program: 0x20008086,
  version: 1,
  procedure,
  type: MessageType.REPLY,
  serial,
  status: MessageStatus.OK,
});

describe('libvirt RPC framing', () => {
  it('writes a length that counts itself, then the 24-byte header, then the body', () => {
    const m = encodeMessage(header(7, 23), Buffer.from('abcd'));
    expect(m.length).toBe(32);
    expect(m.readUInt32BE(0)).toBe(32);
    expect(m.subarray(4, 28).toString('hex')).toBe('20008086' + '00000001' + '00000017' + '00000001' + '00000007' + '00000000');
    expect(decodeMessage(m)).toEqual({ header: header(7, 23), body: Buffer.from('abcd') });
  });

  const stream = Buffer.concat([encodeMessage(header(1)), encodeMessage(header(2), Buffer.alloc(13 * 4, 1)), encodeMessage(header(3), Buffer.from('xyz!'))]);
  const serials = (d: MessageDecoder, chunks: Buffer[]) => chunks.flatMap((c) => d.push(c)).map((m) => m.header.serial);

  it('parses the stream whole', () => {
    expect(serials(new MessageDecoder(), [stream])).toEqual([1, 2, 3]);
  });

  // a stream socket may divide the bytes anywhere: every split point must give the same messages
  it('parses the stream split at every point', () => {
    for (let i = 0; i <= stream.length; i++) {
      const d = new MessageDecoder();
      expect(serials(d, [stream.subarray(0, i), stream.subarray(i)]), `split at ${i}`).toEqual([1, 2, 3]);
      expect(d.buffered).toBe(0);
    }
  });

  it('parses the stream one byte at a time', () => {
    const d = new MessageDecoder();
    expect(serials(d, [...stream].map((b) => Buffer.from([b])))).toEqual([1, 2, 3]);
  });

  it('keeps a partial message until the rest arrives', () => {
    const d = new MessageDecoder();
    expect(d.push(stream.subarray(0, 30))).toHaveLength(1);
    expect(d.buffered).toBe(2);
  });

  it('rejects lengths no libvirt message can have', () => {
    for (const len of [0, 27, 16_777_221]) {
      const b = Buffer.alloc(28);
      b.writeUInt32BE(len);
      let err: unknown;
      try {
        new MessageDecoder().push(b);
      } catch (e) {
        err = e;
      }
      expect(isQksError(err, 'PROTOCOL_ERROR'), `length ${len}`).toBe(true);
    }
  });
});
