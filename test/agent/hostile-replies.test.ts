/**
 * Replies a hostile or broken agent can send, through the library and the
 * CLI. Each case failed on the earlier code (noted per test).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openAgent } from '../../src/agent/connect.js';
import { startFakeAgent, type FakeAgent, type FakeAgentFaults } from '../../src/fake-agent/index.js';
import { runCli } from '../helpers/cli.js';
import { rejectionOf } from '../helpers/errors.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});
async function fake(faults: FakeAgentFaults, files: Record<string, string> = {}): Promise<FakeAgent> {
  const dir = mkdtempSync(join(tmpdir(), 'qks-hostile-'));
  const a = await startFakeAgent({ socketPath: join(dir, 'qga.sock'), faults, files });
  cleanups.push(async () => {
    await a.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return a;
}

describe('hostile agent replies', () => {
  // before: parsed and returned (the CLI then overflowed the stack printing it: exit 1 INTERNAL)
  it('deeply nested JSON is PROTOCOL_ERROR before parsing, library and CLI (exit 6)', async () => {
    const deep = `{"return": ${'['.repeat(200_000)}${']'.repeat(200_000)}}\n`;
    const a = await fake({ replies: { 'guest-get-osinfo': deep } });
    const c = await openAgent({ socket: a.socketPath });
    cleanups.push(() => c.close());
    const e = await rejectionOf(c.execute('guest-get-osinfo'));
    expect(e.code).toBe('PROTOCOL_ERROR');
    expect(e.message).toMatch(/nests deeper than 64/);
    await c.close();
    const r = await runCli(['--json', 'agent', 'execute', '--socket', a.socketPath, 'guest-get-osinfo']);
    expect(r.code).toBe(6);
    expect(r.json[0]).toMatchObject({ ok: false, error: { code: 'PROTOCOL_ERROR' } });
  });

  // before: Buffer.from(x, 'base64') skipped the bad characters and returned what it could
  it('buf-b64 that is not base64: PROTOCOL_ERROR', async () => {
    const a = await fake({ replies: { 'guest-file-read': { return: { count: 3, 'buf-b64': 'a*b!', eof: true } } } }, { '/f': 'abc' });
    const c = await openAgent({ socket: a.socketPath });
    cleanups.push(() => c.close());
    const e = await rejectionOf(c.readFile('/f', { method: 'file' }));
    expect(e.code).toBe('PROTOCOL_ERROR');
    expect(e.message).toMatch(/not complete base64/);
    expect(a.openHandles).toBe(0); // the handle is still given back
  });

  // before: `agent cat` printed 1034 of 2069 bytes with exit 0
  it('base64 that stops halfway, or a count that disagrees with the data: PROTOCOL_ERROR, exit 6, nothing printed', async () => {
    const full = Buffer.alloc(2069, 0x61).toString('base64');
    const cut = full.slice(0, 1380); // a multiple of 4: valid base64, half the bytes
    const a = await fake({ replies: { 'guest-file-read': { return: { count: 2069, 'buf-b64': cut, eof: true } } } }, { '/f': 'x' });
    const r = await runCli(['agent', 'cat', '--socket', a.socketPath, '--method', 'file', '/f']);
    expect(r.code).toBe(6);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/count is 2069 but buf-b64 holds 1035 bytes/);
    a.faults = { replies: { 'guest-file-read': { return: { count: 3, 'buf-b64': 'YWJj=', eof: true } } } };
    expect((await runCli(['agent', 'cat', '--socket', a.socketPath, '--method', 'file', '/f'])).code).toBe(6);
  });

  it('out-data that is not base64: PROTOCOL_ERROR', async () => {
    const a = await fake({ replies: { 'guest-exec-status': { return: { exited: true, exitcode: 0, 'out-data': 'not base64!' } } } });
    const c = await openAgent({ socket: a.socketPath });
    cleanups.push(() => c.close());
    expect((await rejectionOf(c.exec('/bin/true'))).code).toBe('PROTOCOL_ERROR');
  });

  // before: exit 0 (success) for a killed process, and "exited with undefined" for a status without exitcode
  it('exec status: a signal beside exitcode 0 is a failure; neither exitcode nor signal is PROTOCOL_ERROR', async () => {
    const a = await fake({ replies: { 'guest-exec-status': { return: { exited: true, exitcode: 0, signal: 9 } } } });
    const killed = await runCli(['--json', 'agent', 'exec', '--socket', a.socketPath, '/bin/true']);
    expect(killed.code).toBe(6);
    expect(killed.json[0]).toMatchObject({ ok: false, exitCode: 0, signal: 9 });
    const text = await runCli(['agent', 'exec', '--socket', a.socketPath, '/bin/true']);
    expect(text.code).toBe(6);
    expect(text.stderr).toMatch(/killed by signal 9/);
    a.faults = { replies: { 'guest-exec-status': { return: { exited: true } } } };
    const none = await runCli(['agent', 'exec', '--socket', a.socketPath, '/bin/true']);
    expect(none.code).toBe(6);
    expect(none.stderr).toMatch(/neither an exit code nor a signal/);
    expect(none.stderr).not.toMatch(/undefined/);
  });

  // before: SOCKET_HELD after the fixed 3 s handshake bound, whatever --timeout said
  it('a slow agent (3.5 s per reply) with --timeout 10 answers; silence says "no answer within N s"', async () => {
    const a = await fake({ delayMs: 3_500, flushError: false });
    const r = await runCli(['--json', 'agent', 'ping', '--socket', a.socketPath, '--timeout', '10']);
    expect(r.json[0]).toMatchObject({ ok: true });
    const silent = await fake({ neverAnswer: true });
    const s = await runCli(['agent', 'ping', '--socket', silent.socketPath, '--timeout', '4']);
    expect(s.code).toBe(5);
    expect(s.stderr).toMatch(/no answer within 4 s/);
  }, 60_000);
});
