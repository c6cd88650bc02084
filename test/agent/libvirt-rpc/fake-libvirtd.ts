/**
 * A stand-in libvirtd on a unix socket for tests without the daemon: it answers each call with the
 * recorded reply of the same serial (fixtures/libvirt/), or with what a test's handler returns.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MessageDecoder, type RpcMessage } from '../../../src/agent/libvirt-rpc/framing.js';
import type { Recording } from './scenarios.js';

export function loadFixture(name: string): Recording {
  return JSON.parse(readFileSync(fileURLToPath(new URL(`../../../fixtures/libvirt/${name}.json`, import.meta.url)), 'utf8')) as Recording;
}

/** The recorded reply frames by serial. */
export function replyFrames(rec: Recording): Map<number, Buffer> {
  const raw = Buffer.from(rec.in.join(''), 'hex');
  const out = new Map<number, Buffer>();
  for (let o = 0; o < raw.length; ) {
    const len = raw.readUInt32BE(o);
    out.set(raw.readUInt32BE(o + 20), raw.subarray(o, o + len));
    o += len;
  }
  return out;
}

/** What to send for a call: frames (possibly split), nothing (stay silent), or 'close'. */
export type Handler = (call: RpcMessage, socket: Socket) => Buffer | Buffer[] | null | 'close';

export interface FakeLibvirtd {
  socketPath: string;
  calls: RpcMessage[];
  close(): Promise<void>;
}

export async function startFakeLibvirtd(handler: Handler): Promise<FakeLibvirtd> {
  const dir = mkdtempSync(join(tmpdir(), 'qks-fake-libvirtd-'));
  const socketPath = join(dir, 'libvirt-sock');
  const calls: RpcMessage[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => undefined);
    const d = new MessageDecoder();
    s.on('data', (chunk) => {
      for (const m of d.push(chunk)) {
        calls.push(m);
        const r = handler(m, s);
        if (r === 'close') s.destroy();
        else if (r) for (const b of Array.isArray(r) ? r : [r]) s.write(b);
      }
    });
  });
  await new Promise<void>((r) => server.listen(socketPath, r));
  return {
    socketPath,
    calls,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Replays a recording: each call gets the recorded reply of its serial, one byte per write when `split`. */
export function replay(rec: Recording, split = false): Handler {
  const frames = replyFrames(rec);
  return (call) => {
    const f = frames.get(call.header.serial);
    if (!f) return null;
    return split ? [...f].map((b) => Buffer.from([b])) : f;
  };
}
