/**
 * Fuzzing at scale: 10,000 generated guest-agent byte streams and 10,000 libvirt RPC streams
 * (valid frames cut anywhere, flipped bytes, lengths that lie, huge lengths, deep nesting, garbage)
 * through the decoders and the clients. Each run ends in a documented code (never INTERNAL, never an
 * uncaught exception), without a hang, with buffers within their bounds. The socket is an in-memory
 * stand-in that answers each request from the generated script and hangs up when the script is spent.
 */
import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AgentClient } from '../../src/agent/client.js';
import { DirectTransport } from '../../src/agent/direct.js';
import { FrameDecoder } from '../../src/agent/framing.js';
import { Handshake } from '../../src/agent/handshake.js';
import { MessageDecoder, encodeMessage, LEN_SIZE, MESSAGE_MAX, MessageStatus, MessageType } from '../../src/agent/libvirt-rpc/framing.js';
import { QEMU_PROGRAM } from '../../src/agent/libvirt-rpc/protocol.js';
import { LibvirtSession } from '../../src/agent/libvirt-rpc/session.js';
import { LibvirtTransport } from '../../src/agent/libvirt-rpc/transport.js';
import { XdrWriter } from '../../src/agent/libvirt-rpc/xdr.js';
import { ERROR_CODES, QksError, type ErrorCode } from '../../src/errors.js';

const RUNS = Number(process.env.QKS_FUZZ_RUNS ?? 10_000);
const MAX_BYTES = 64 * 1024;
const DOCUMENTED = new Set(Object.keys(ERROR_CODES).filter((c) => c !== 'INTERNAL')) as Set<ErrorCode>;

/** A stand-in socket: `answer(bytes)` is called for every write; `destroy()` closes it (async, like net). */
class ScriptedSocket extends EventEmitter {
  destroyed = false;
  constructor(private readonly answer: (data: Buffer, s: ScriptedSocket) => void) {
    super();
  }
  private writes = 0;
  write(data: Buffer): boolean {
    this.writes++;
    if (!this.destroyed) queueMicrotask(() => this.answer(data, this));
    return true;
  }
  send(data: Buffer): void {
    if (!this.destroyed && data.length) this.emit('data', data);
  }
  destroy(): this {
    if (!this.destroyed) {
      this.destroyed = true;
      setImmediate(() => this.emit('close'));
    }
    return this;
  }
  /** Hang up if the client writes nothing more after this turn (it waits for bytes that will not come). */
  idleClose(): void {
    const n = this.writes;
    setImmediate(() => setImmediate(() => this.writes === n && this.destroy()));
  }
}

/** Cuts, flips and splices applied to bytes. */
const mutation = fc.oneof(
  { weight: 6, arbitrary: fc.constant({ kind: 'none' as const }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('cut' as const), at: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('splice' as const), at: fc.nat(), junk: fc.uint8Array({ maxLength: 16 }) }) },
);
type Of<A> = A extends fc.Arbitrary<infer T> ? T : never;
type Mutation = Of<typeof mutation>;

function mutate(b: Buffer, m: Mutation): Buffer {
  if (m.kind === 'none' || b.length === 0) return b;
  const at = m.at % b.length;
  if (m.kind === 'flip') {
    const c = Buffer.from(b);
    c[at] = c[at]! ^ (1 << m.bit);
    return c;
  }
  if (m.kind === 'cut') return b.subarray(0, at);
  return Buffer.concat([b.subarray(0, at), Buffer.from(m.junk), b.subarray(at)]);
}

const json = (v: unknown) => Buffer.from(JSON.stringify(v) + '\n');

/** One reply the guest might send to a command (or a hostile stand-in for one). */
const agentReply: fc.Arbitrary<Buffer> = fc.oneof(
  fc.integer({ min: 0, max: 5000 }).map((h) => json({ return: h })),
  fc.tuple(fc.uint8Array({ maxLength: 300 }), fc.integer({ min: -2, max: 2 }), fc.boolean()).map(([data, lie, eof]) =>
    json({ return: { count: Math.max(0, data.length + lie), 'buf-b64': Buffer.from(data).toString('base64'), eof } }),
  ),
  fc.string({ maxLength: 40 }).map((s) => json({ return: { count: s.length, 'buf-b64': s, eof: true } })),
  fc.constant(json({ return: {} })),
  fc.string({ maxLength: 40 }).map((desc) => json({ error: { class: 'GenericError', desc } })),
  fc.constant(json({ error: { class: 'CommandNotFound', desc: 'The command guest-file-open has been disabled' } })),
  fc.constant(json({ error: 'not an object' })),
  fc.integer({ min: 10, max: 200 }).map((n) => Buffer.from(`{"return": ${'['.repeat(n)}${']'.repeat(n)}}`)),
  fc.integer({ min: 1, max: 2 }).map((k) => Buffer.from(`{"return": "${'x'.repeat(k * MAX_BYTES)}"}`)), // over the size bound
  fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b)),
  fc.constant(Buffer.of(0xff)),
);

const agentScript = fc.record({
  syncMutation: mutation,
  replies: fc.array(fc.tuple(agentReply, mutation), { maxLength: 6 }),
  chunk: fc.integer({ min: 1, max: 64 }),
});

function runAgentScript(script: Of<typeof agentScript>): Promise<{ code?: ErrorCode; buffered: number }> {
  const replies = [...script.replies];
  const requests = new FrameDecoder();
  const sock = new ScriptedSocket((data, s) => {
    for (const f of requests.push(data)) {
      if (f.type !== 'message') continue;
      const id = (f.value.arguments as { id?: number } | undefined)?.id;
      let out: Buffer;
      if (f.value.execute === 'guest-sync-delimited' || f.value.execute === 'guest-sync') out = mutate(Buffer.concat([Buffer.of(0xff), json({ return: id })]), script.syncMutation);
      else {
        const next = replies.shift();
        if (!next) {
          s.destroy();
          return;
        }
        out = mutate(next[0], next[1]);
      }
      // at most 64 pieces per reply: small cuts everywhere, without a million emits for the huge ones
      const step = Math.max(script.chunk, Math.ceil(out.length / 64));
      for (let i = 0; i < out.length; i += step) s.send(out.subarray(i, i + step));
    }
    s.idleClose();
  });
  const t = new DirectTransport(sock as unknown as Socket, '/fuzz.sock', { handshakeTimeoutMs: 5_000, commandTimeoutMs: 5_000, maxMessageBytes: MAX_BYTES });
  const decoder = (t as unknown as { decoder: FrameDecoder }).decoder;
  return t
    .handshake(true)
    .then(() => new AgentClient(t).readFile('/f', { method: 'file', timeoutMs: 5_000 }))
    .then(
      () => ({ buffered: decoder.buffered }),
      (e: unknown) => {
        if (!(e instanceof QksError)) throw e;
        return { code: e.code, buffered: decoder.buffered };
      },
    )
    .finally(() => t.close());
}

describe('fuzzing the guest-agent path', () => {
  it(`${RUNS} generated byte streams through the decoder and the handshake: no throw but PROTOCOL_ERROR, bounded buffers`, () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(agentReply, mutation), { maxLength: 8 }), fc.integer({ min: 1, max: 97 }), (items, chunk) => {
        const stream = Buffer.concat(items.map(([b, m]) => mutate(b, m)));
        chunk = Math.max(chunk, Math.ceil(stream.length / 256));
        const d = new FrameDecoder(MAX_BYTES);
        const hs = new Handshake({ socketPath: '/s', initial: true, nextId: () => 5_000_000_001 });
        hs.start(5_000_000_000);
        let most = 0;
        for (let i = 0; i < stream.length; i += chunk) {
          try {
            for (const f of d.push(stream.subarray(i, i + chunk))) hs.onFrame(f);
          } catch (e) {
            if (!(e instanceof QksError) || e.code !== 'PROTOCOL_ERROR') throw e;
          }
          most = Math.max(most, d.buffered);
        }
        expect(most).toBeLessThanOrEqual(MAX_BYTES);
        expect(DOCUMENTED.has(hs.timeout(1000, { buffered: d.buffered, garbage: d.pendingGarbage }).code)).toBe(true);
      }),
      { numRuns: RUNS },
    );
  }, 300_000);

  it(`${RUNS} generated agent conversations through the direct transport and the client end in documented codes`, async () => {
    const codes = new Map<string, number>();
    await fc.assert(
      fc.asyncProperty(agentScript, async (script) => {
        const r = await runAgentScript(script);
        codes.set(r.code ?? 'ok', (codes.get(r.code ?? 'ok') ?? 0) + 1);
        if (r.code) expect(DOCUMENTED.has(r.code)).toBe(true);
        expect(r.buffered).toBeLessThanOrEqual(MAX_BYTES);
      }),
      { numRuns: RUNS },
    );
    console.log(`[figure] agent fuzz outcomes: ${JSON.stringify(Object.fromEntries(codes))}`);
    expect(codes.size).toBeGreaterThan(3); // the generator reaches more than one kind of ending
  }, 300_000);
});

// --- libvirt RPC ---------------------------------------------------------------------------------

const DOM = { name: 'vm', uuid: Buffer.alloc(16, 1), id: 1 };

function agentRet(text: string | null): Buffer {
  return new XdrWriter().optional(text, (w, v) => w.string(v)).toBuffer();
}
function remoteError(message: string | null, code: number): Buffer {
  const w = new XdrWriter().int(code).int(10).optional(message, (x, v) => x.string(v)).int(2);
  // dom, str1, str2, str3 (optional), int1, int2, net (optional)
  w.bool(false).bool(false).bool(false).bool(false).int(0).int(0).bool(false);
  return w.toBuffer();
}

/** A reply message for serial `serial` (or a wrong one), with a body that may or may not fit. */
const rpcReply = fc.oneof(
  fc.constantFrom('{"return": {}}', '{"return": 5}', '{"error": {"class": "X", "desc": "y"}}', 'not json', '[[[[[[', '{}').map((t) => ({ status: MessageStatus.OK, type: MessageType.REPLY, body: agentRet(t), serialDelta: 0 })),
  fc.constant({ status: MessageStatus.OK, type: MessageType.REPLY, body: agentRet(null), serialDelta: 0 }),
  fc.tuple(fc.option(fc.string({ maxLength: 40 })), fc.integer({ min: 0, max: 120 })).map(([m, code]) => ({ status: MessageStatus.ERROR, type: MessageType.REPLY, body: remoteError(m, code), serialDelta: 0 })),
  fc.uint8Array({ maxLength: 40 }).map((b) => ({ status: MessageStatus.OK, type: MessageType.REPLY, body: Buffer.from(b), serialDelta: 0 })),
  fc.uint8Array({ maxLength: 40 }).map((b) => ({ status: MessageStatus.ERROR, type: MessageType.REPLY, body: Buffer.from(b), serialDelta: 0 })),
  fc.constant({ status: MessageStatus.OK, type: MessageType.MESSAGE, body: Buffer.alloc(8), serialDelta: 0 }),
  fc.integer({ min: 1, max: 3 }).map((d) => ({ status: MessageStatus.OK, type: MessageType.REPLY, body: agentRet('{"return": 1}'), serialDelta: d })),
);
const lengthLie = fc.oneof(
  { weight: 5, arbitrary: fc.constant(undefined) },
  { weight: 1, arbitrary: fc.constantFrom(0, 3, 27, LEN_SIZE + MESSAGE_MAX + 1, 0xffffffff) },
  { weight: 1, arbitrary: fc.integer({ min: 28, max: 200 }) },
);

function encodeRpc(serial: number, r: Of<typeof rpcReply>, lie: number | undefined): Buffer {
  const m = encodeMessage({ program: QEMU_PROGRAM, version: 1, procedure: 3, type: r.type, serial: serial + r.serialDelta, status: r.status }, r.body);
  if (lie !== undefined) m.writeUInt32BE(lie >>> 0, 0);
  return m;
}

const rpcScript = fc.record({
  replies: fc.array(fc.tuple(rpcReply, lengthLie, mutation), { maxLength: 5 }),
  chunk: fc.integer({ min: 1, max: 64 }),
});

function runRpcScript(script: Of<typeof rpcScript>): Promise<{ code?: ErrorCode; buffered: number }> {
  const replies = [...script.replies];
  const calls = new MessageDecoder();
  const sock = new ScriptedSocket((data, s) => {
    for (const m of calls.push(data)) {
      const next = replies.shift();
      if (!next) {
        s.destroy();
        return;
      }
      const out = mutate(encodeRpc(m.header.serial, next[0], next[1]), next[2]);
      for (let i = 0; i < out.length; i += script.chunk) s.send(out.subarray(i, i + script.chunk));
    }
    s.idleClose();
  });
  // the session's constructor is private: its static connect() opens a real socket, this test has none
  const Session = LibvirtSession as unknown as new (socket: Socket, path: string) => LibvirtSession;
  const session = new Session(sock as unknown as Socket, '/fuzz-libvirt.sock');
  const decoder = (session as unknown as { decoder: MessageDecoder }).decoder;
  const t = new LibvirtTransport(session, DOM, 'qemu:///system', 'none', 5_000);
  const buffered = () => (decoder as unknown as { pendingSize: number }).pendingSize;
  return (async () => {
    try {
      await t.execute('guest-ping', undefined, { timeoutMs: 5_000 });
      return { buffered: buffered() };
    } catch (e) {
      if (!(e instanceof QksError)) throw e;
      return { code: e.code, buffered: buffered() };
    } finally {
      session.destroy();
    }
  })();
}

describe('fuzzing the libvirt RPC path', () => {
  it(`${RUNS} generated RPC streams through the message decoder: messages or PROTOCOL_ERROR, bounded`, () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(rpcReply, lengthLie, mutation), { maxLength: 6 }), fc.integer({ min: 1, max: 97 }), (items, chunk) => {
        const stream = Buffer.concat(items.map(([r, lie, m], i) => mutate(encodeRpc(i + 1, r, lie), m)));
        const d = new MessageDecoder();
        let most = 0;
        for (let i = 0; i < stream.length; i += chunk) {
          try {
            d.push(stream.subarray(i, i + chunk));
          } catch (e) {
            if (!(e instanceof QksError) || e.code !== 'PROTOCOL_ERROR') throw e;
            break; // the session drops the connection at the first framing error
          }
          most = Math.max(most, (d as unknown as { pendingSize: number }).pendingSize);
        }
        expect(most).toBeLessThanOrEqual(LEN_SIZE + MESSAGE_MAX);
      }),
      { numRuns: RUNS },
    );
  }, 300_000);

  it(`${RUNS} generated libvirtd conversations through the session and transport end in documented codes`, async () => {
    const codes = new Map<string, number>();
    await fc.assert(
      fc.asyncProperty(rpcScript, async (script) => {
        const r = await runRpcScript(script);
        codes.set(r.code ?? 'ok', (codes.get(r.code ?? 'ok') ?? 0) + 1);
        if (r.code) expect(DOCUMENTED.has(r.code)).toBe(true);
        expect(r.buffered).toBeLessThanOrEqual(LEN_SIZE + MESSAGE_MAX);
      }),
      { numRuns: RUNS },
    );
    console.log(`[figure] libvirt fuzz outcomes: ${JSON.stringify(Object.fromEntries(codes))}`);
    expect(codes.size).toBeGreaterThan(2);
  }, 300_000);
});
