/**
 * The libvirt transport end to end against a stand-in libvirtd that replays real recorded replies
 * (fixtures/libvirt/), plus the failures a daemon can cause: silence, hang-ups, garbage, no socket.
 * The same transport against the real daemon and a VM: test/vm/libvirt-agent.test.ts.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { isQksError, type QksError } from '../../../src/errors.js';
import { encodeMessage, MessageStatus, MessageType } from '../../../src/agent/libvirt-rpc/framing.js';
import { QEMU_PROGRAM, QemuProc, REMOTE_PROGRAM, RemoteProc } from '../../../src/agent/libvirt-rpc/protocol.js';
import { LibvirtSession } from '../../../src/agent/libvirt-rpc/session.js';
import { XdrWriter } from '../../../src/agent/libvirt-rpc/xdr.js';
import { openLibvirtTransport } from '../../../src/agent/libvirt-rpc/transport.js';
import { probeLibvirt as probe } from '../../../src/doctor/checks/libvirtd.js';
import { loadFixture, replay, replyFrames, startFakeLibvirtd, type FakeLibvirtd } from './fake-libvirtd.js';
import { rejectionOf } from '../../helpers/errors.js';

let fake: FakeLibvirtd | undefined;
afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

describe('LibvirtTransport over recorded libvirtd replies', () => {
  it('pings as root (auth none) and reports where it went', async () => {
    fake = await startFakeLibvirtd(replay(loadFixture('root-ping')));
    const t = await openLibvirtTransport({ domain: 'qks-rec', socketPath: fake.socketPath });
    expect(t.info).toEqual({ kind: 'libvirt', socketPath: fake.socketPath, uri: 'qemu:///system', domain: 'qks-rec' });
    expect(t.auth).toBe('none');
    expect(await t.execute('guest-ping')).toEqual({});
    await t.close();
    await t.close(); // idempotent
    expect(fake.calls.map((c) => c.header.procedure)).toEqual([RemoteProc.AUTH_LIST, RemoteProc.CONNECT_OPEN, RemoteProc.DOMAIN_LOOKUP_BY_NAME, 3, RemoteProc.CONNECT_CLOSE]);
  });

  it('passes polkit authentication as a libvirt-group user, replies arriving one byte per write', async () => {
    fake = await startFakeLibvirtd(replay(loadFixture('group-polkit-ping'), true));
    const t = await openLibvirtTransport({ domain: 'qks-rec', socketPath: fake.socketPath });
    expect(t.auth).toBe('polkit');
    expect(await t.execute('guest-ping')).toEqual({});
    await t.close();
  });

  it('reads a file through guest-file-open/read/close', async () => {
    fake = await startFakeLibvirtd(replay(loadFixture('root-file-read')));
    const t = await openLibvirtTransport({ domain: 'qks-rec', socketPath: fake.socketPath });
    const h = await t.execute('guest-file-open', { path: '/var/lib/kubesolo/pki/admin/admin.kubeconfig', mode: 'r' });
    const r = (await t.execute('guest-file-read', { handle: h, count: 65536 })) as { 'buf-b64': string };
    expect(Buffer.from(r['buf-b64'], 'base64').toString()).toContain('kind: Config');
    await t.execute('guest-file-close', { handle: h });
    await t.close();
  });

  it.each([
    ['outsider-denied', 'LIBVIRT_AUTH', 4, /no polkit agent available/],
    ['root-no-domain', 'VM_NOT_FOUND', 3, /no domain with matching name/],
    ['root-agent-not-connected', 'AGENT_NOT_CONNECTED', 3, /QEMU guest agent is not connected/],
    ['root-file-missing', 'COMMAND_FAILED', 6, /No such file or directory/],
    ['root-unknown-command', 'COMMAND_FAILED', 6, /does not know guest-no-such-command/],
  ] as const)('%s: %s (exit %i)', async (name, code, exit, message) => {
    const rec = loadFixture(name);
    fake = await startFakeLibvirtd(replay(rec));
    const domain = name === 'root-no-domain' ? 'qks-no-such-domain' : name === 'root-agent-not-connected' ? 'qks-rec-noga' : 'qks-rec';
    const e = await rejectionOf(
      (async () => {
        const t = await openLibvirtTransport({ domain, socketPath: fake!.socketPath });
        try {
          const s = await import('./scenarios.js');
          await s.SCENARIOS.find((x) => x.name === name)!.steps(t);
        } finally {
          await t.close();
        }
      })(),
    );
    expect(e.code).toBe(code);
    expect(e.exitCode).toBe(exit);
    expect(e.message).toMatch(message);
    if (code === 'LIBVIRT_AUTH') expect(e.hint).toMatch(/libvirt group/);
  });
});

// doctor's probe (src/doctor/checks/libvirtd.ts) over the local transport
const probeLibvirt = (o: { domain: string; socketPath: string }) => probe(() => openLibvirtTransport(o));

describe('probeLibvirt (for doctor)', () => {
  it('reports socket, authentication and a connected agent', async () => {
    fake = await startFakeLibvirtd(replay(loadFixture('group-polkit-ping')));
    expect(await probeLibvirt({ domain: 'qks-rec', socketPath: fake.socketPath })).toMatchObject({ ok: true, socketPath: fake.socketPath, auth: 'polkit', agentConnected: true });
  });

  it('reports how far it got when the agent is not connected, without throwing', async () => {
    fake = await startFakeLibvirtd(replay(loadFixture('root-agent-not-connected')));
    const p = await probeLibvirt({ domain: 'qks-rec-noga', socketPath: fake.socketPath });
    expect(p).toMatchObject({ ok: false, auth: 'none', agentConnected: false, error: { code: 'AGENT_NOT_CONNECTED' } });
  });
});

describe('LibvirtTransport failures', () => {
  const rootPing = loadFixture('root-ping');

  it('LIBVIRT_NOT_RUNNING when no socket is there, naming every path tried', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'qks-e-'));
    try {
      const e = await rejectionOf(openLibvirtTransport({ domain: 'x', uri: `qemu:///system?socket=${dir}/nope`, timeoutMs: 1000 }));
      expect(e.code).toBe('LIBVIRT_NOT_RUNNING');
      expect(e.message).toContain(`${dir}/nope (absent)`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('LIBVIRT_NOT_RUNNING for a stale socket file (connection refused)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'qks-e-'));
    const path = join(dir, 'sock');
    // a socket file nobody listens on, as a crashed daemon leaves it (bound, never listening)
    execFileSync('python3', ['-c', 'import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])', path]);
    try {
      const e = await rejectionOf(openLibvirtTransport({ domain: 'x', socketPath: path, timeoutMs: 1000 }));
      expect(e.code).toBe('LIBVIRT_NOT_RUNNING');
      expect(e.message).toContain('refused');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('LIBVIRT_TIMEOUT within its bound when the daemon accepts and says nothing', async () => {
    fake = await startFakeLibvirtd(() => null);
    const started = performance.now();
    const e = await rejectionOf(openLibvirtTransport({ domain: 'x', socketPath: fake.socketPath, timeoutMs: 300 }));
    expect(e.code).toBe('LIBVIRT_TIMEOUT');
    expect(e.message).toContain('AUTH_LIST');
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it('AGENT_TIMEOUT within the command timeout plus the margin when the agent call gets no reply', async () => {
    const frames = replyFrames(rootPing);
    fake = await startFakeLibvirtd((call) => (call.header.program === 0x20008087 ? null : frames.get(call.header.serial)!));
    const t = await openLibvirtTransport({ domain: 'qks-rec', socketPath: fake.socketPath });
    const started = performance.now();
    const e = await rejectionOf(t.execute('guest-ping', undefined, { timeoutMs: 200 }));
    expect(e.code).toBe('AGENT_TIMEOUT');
    expect(performance.now() - started).toBeLessThan(200 + 1000 + 300);
    // libvirt got a whole-second timeout of at least 1
    const agentCall = fake.calls.at(-1)!;
    expect(agentCall.body.readInt32BE(agentCall.body.length - 8)).toBe(1);
    await t.close();
  });

  it('a late reply to a timed-out call is dropped by its serial, never taken for the next call', async () => {
    const frames = replyFrames(rootPing);
    const agentReply = (serial: number, json: string) =>
      encodeMessage(
        { program: QEMU_PROGRAM, version: 1, procedure: QemuProc.DOMAIN_AGENT_COMMAND, type: MessageType.REPLY, serial, status: MessageStatus.OK },
        new XdrWriter().optional(json, (w, v) => w.string(v)).toBuffer(),
      );
    let first: number | undefined;
    fake = await startFakeLibvirtd((call) => {
      if (call.header.program !== QEMU_PROGRAM) return frames.get(call.header.serial) ?? null;
      if (first === undefined) {
        first = call.header.serial; // no answer until the next call: then the late one comes first
        return null;
      }
      return [agentReply(first, '{"return": "late"}'), agentReply(call.header.serial, '{"return": "ours"}')];
    });
    const t = await openLibvirtTransport({ domain: 'qks-rec', socketPath: fake.socketPath });
    expect((await rejectionOf(t.execute('guest-sync', { id: 1 }, { timeoutMs: 100 }))).code).toBe('AGENT_TIMEOUT');
    expect(await t.execute('guest-sync', { id: 2 })).toBe('ours');
    await t.close();
  });

  it('stops waiting for an agent reply when the signal aborts', async () => {
    const frames = replyFrames(rootPing);
    fake = await startFakeLibvirtd((call) => (call.header.program === 0x20008087 ? null : frames.get(call.header.serial)!));
    const t = await openLibvirtTransport({ domain: 'qks-rec', socketPath: fake.socketPath });
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 50);
    const started = performance.now();
    const e = await rejectionOf(t.execute('guest-ping', undefined, { timeoutMs: 5_000, signal: ac.signal }));
    expect(e.code).toBe('INTERRUPTED');
    expect(performance.now() - started).toBeLessThan(1000);
    await t.close();
  });

  it('a retryable LIBVIRT_ERROR when the daemon hangs up mid-call', async () => {
    fake = await startFakeLibvirtd(() => 'close');
    const e = await rejectionOf(openLibvirtTransport({ domain: 'x', socketPath: fake.socketPath, timeoutMs: 1000 }));
    expect(e.code).toBe('LIBVIRT_ERROR');
    expect(e.retryable).toBe(true);
  });

  it('the session says the peer closed it (what the SSH and TLS carriers branch on), and not after our own close', async () => {
    fake = await startFakeLibvirtd(() => 'close');
    const s = await LibvirtSession.connect(fake.socketPath, { timeoutMs: 1000 });
    await rejectionOf(s.call(REMOTE_PROGRAM, RemoteProc.AUTH_LIST, undefined, { timeoutMs: 1000, context: { operation: 'AUTH_LIST' } }));
    expect(s.streamEnd).toEqual({ kind: 'closed' });
    s.destroy();
    const ours = await LibvirtSession.connect(fake.socketPath, { timeoutMs: 1000 });
    ours.destroy();
    await new Promise((r) => setTimeout(r, 20));
    expect(ours.streamEnd).toBeUndefined();
  });

  it('PROTOCOL_ERROR when the peer is not libvirtd', async () => {
    fake = await startFakeLibvirtd((_c, s) => (s.write('HTTP/1.1 400 Bad Request\r\n\r\n'), null));
    const e = await rejectionOf(openLibvirtTransport({ domain: 'x', socketPath: fake.socketPath, timeoutMs: 1000 }));
    expect(e.code).toBe('PROTOCOL_ERROR');
  });

  it('VM_NOT_FOUND when the domain is defined but not running (id -1)', async () => {
    const frames = replyFrames(rootPing);
    fake = await startFakeLibvirtd((call) => {
      const f = Buffer.from(frames.get(call.header.serial)!);
      if (call.header.procedure === RemoteProc.DOMAIN_LOOKUP_BY_NAME) f.writeInt32BE(-1, f.length - 4);
      return f;
    });
    const e = await rejectionOf(openLibvirtTransport({ domain: 'qks-rec', socketPath: fake.socketPath }));
    expect(e.code).toBe('VM_NOT_FOUND');
    expect(e.message).toContain('not running');
  });

  it('LIBVIRT_AUTH when the daemon only offers SASL', async () => {
    fake = await startFakeLibvirtd((call) =>
      encodeMessage({ ...call.header, type: MessageType.REPLY, status: MessageStatus.OK }, Buffer.from('0000000100000001', 'hex')),
    );
    const e = await rejectionOf(openLibvirtTransport({ domain: 'x', socketPath: fake.socketPath }));
    expect(e.code).toBe('LIBVIRT_AUTH');
    expect(e.message).toContain('SASL');
  });
});
