import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { FrameDecoder } from './framing.js';
import { Handshake, type HandshakeStep } from './handshake.js';

const recorded = readFileSync(new URL('../../fixtures/agent/qemu-ga-7.2-session.bin', import.meta.url));
const RECORDED_ID = 424242;

/** Runs a handshake over `chunks`; returns every step and where (byte offset) it finished. */
function run(chunks: Uint8Array[], id: number, opts: { initial?: boolean; ids?: number[] } = {}) {
  const ids = [...(opts.ids ?? [])];
  const hs = new Handshake({ socketPath: '/s', initial: opts.initial ?? true, nextId: () => ids.shift()! });
  const opening = hs.start(id);
  const d = new FrameDecoder();
  const steps: HandshakeStep[] = [];
  let at = 0;
  let doneAt = -1;
  for (const c of chunks) {
    for (const f of d.push(c)) {
      const s = hs.onFrame(f);
      if (s.send || s.late || s.done) steps.push(s);
      if (s.done && doneAt < 0) doneAt = at + c.length;
    }
    at += c.length;
  }
  return { hs, opening, steps, doneAt, decoder: d };
}

/** Where the recorded sync reply ends: the handshake must finish in the chunk holding that byte. */
const syncEnd = recorded.indexOf(Buffer.from(`${RECORDED_ID}}`)) + `${RECORDED_ID}}`.length;

describe('Handshake on recorded qemu-ga 7.2 traffic', () => {
  it('opens with 0xFF and guest-sync-delimited, then finishes at the sync reply with nothing else to send', () => {
    const r = run([recorded], RECORDED_ID);
    expect(r.opening[0]).toBe(0xff);
    expect(JSON.parse(r.opening.subarray(1).toString())).toEqual({ execute: 'guest-sync-delimited', arguments: { id: RECORDED_ID } });
    // the flush error before the sentinel is noise, not a late reply
    expect(r.steps).toEqual([{ done: true }]);
  });

  // pg-protocol's rule: the stream can be cut anywhere, every split must give the same verdict
  it('gives the same verdict at every split point', () => {
    for (let i = 1; i < recorded.length; i++) {
      const r = run([recorded.subarray(0, i), recorded.subarray(i)], RECORDED_ID);
      expect(r.steps).toEqual([{ done: true }]);
      expect(r.doneAt).toBe(i >= syncEnd ? i : recorded.length);
    }
  });

  it('gives the same verdict byte by byte', () => {
    const r = run([...recorded].map((b) => Uint8Array.of(b)), RECORDED_ID);
    expect(r.steps).toEqual([{ done: true }]);
    expect(r.doneAt).toBe(syncEnd);
  });

  it('is not fooled by a sync answer with another id (an earlier client\'s)', () => {
    const other = Buffer.concat([Buffer.of(0xff), Buffer.from('{"return": 5000000000}\n')]);
    const r = run([other, recorded], RECORDED_ID);
    expect(r.steps).toEqual([{ done: true }]);
  });
});

describe('Handshake cases', () => {
  const sentinelReply = (id: number) => Buffer.concat([Buffer.of(0xff), Buffer.from(`{"return": ${id}}\n`)]);

  it('reports late replies before the sentinel, at every split, and drops the flush noise', () => {
    const stream = Buffer.concat([
      Buffer.from('{"return": 1000}\n{"return": {"pid": 42}}\n{"error": {"class": "GenericError", "desc": "JSON parse error, stray \'\\ufffd\'"}}\n'),
      sentinelReply(7_000_000_000),
    ]);
    const expected = [{ late: { return: 1000 } }, { late: { return: { pid: 42 } } }, { done: true }];
    for (let i = 1; i < stream.length; i++) expect(run([stream.subarray(0, i), stream.subarray(i)], 7_000_000_000, { initial: false }).steps).toEqual(expected);
  });

  it('falls back to plain guest-sync with a fresh id when guest-sync-delimited is unknown', () => {
    const stream = Buffer.concat([
      Buffer.from('{"error": {"class": "CommandNotFound", "desc": "The command guest-sync-delimited has not been found"}}\n'),
      Buffer.from('{"return": 6000000001}\n'),
    ]);
    for (let i = 1; i < stream.length; i++) {
      const r = run([stream.subarray(0, i), stream.subarray(i)], 6_000_000_000, { ids: [6_000_000_001] });
      expect(r.steps.map((s) => (s.send ? JSON.parse(s.send.toString()) : s))).toEqual([{ execute: 'guest-sync', arguments: { id: 6_000_000_001 } }, { done: true }]);
    }
  });

  it('needs the sentinel before a delimited answer', () => {
    expect(run([Buffer.from('{"return": 9000000000}\n')], 9_000_000_000).steps).toEqual([]);
  });

  it('ignores frames after it finished', () => {
    const r = run([sentinelReply(8_000_000_000)], 8_000_000_000);
    expect(r.hs.done).toBe(true);
    expect(r.hs.onFrame({ type: 'message', value: { return: 1 } })).toEqual({});
  });

  it('says why when the bound runs out: held (silent, fresh), not qemu-ga (garbage only), or a stuck agent', () => {
    const silent = new Handshake({ socketPath: '/s', channel: 'org.qemu.guest_agent.0', initial: true, nextId: () => 1 });
    silent.start(5_000_000_000);
    const held = silent.timeout(3000, { buffered: 0, garbage: 0 });
    expect(held.code).toBe('SOCKET_HELD');
    expect(held.message).toMatch(/no answer within 3 s/);
    // a byte that made no frame yet still means someone is there
    expect(silent.timeout(3000, { buffered: 10, garbage: 0 }).code).toBe('AGENT_TIMEOUT');
    expect(silent.timeout(3000, { buffered: 0, garbage: 4 }).code).toBe('PROTOCOL_ERROR');
    const later = new Handshake({ socketPath: '/s', initial: false, nextId: () => 1 });
    later.start(5_000_000_000);
    expect(later.timeout(1000, { buffered: 0, garbage: 0 }).code).toBe('AGENT_TIMEOUT');
    const junk = run([Buffer.from('hello {nope}')], 5_000_000_000);
    expect(junk.hs.timeout(1000, { buffered: 0, garbage: junk.decoder.pendingGarbage }).code).toBe('PROTOCOL_ERROR');
  });
});
