import { describe, expect, it } from 'vitest';
import { QksError, isQksError } from '../errors.js';
import { AgentClient } from './client.js';
import type { AgentTransport } from './transport.js';

/** A transport answering from a table of functions; records what was sent. */
function stub(answers: Record<string, (args: Record<string, unknown> | undefined) => unknown>): AgentTransport & { sent: string[] } {
  const sent: string[] = [];
  return {
    sent,
    info: { kind: 'direct', socketPath: '/stub' },
    async execute(command, args) {
      sent.push(command);
      const f = answers[command];
      if (!f) throw new QksError('COMMAND_FAILED', `no ${command}`, { details: { class: 'CommandNotFound', desc: 'not found' } });
      return f(args);
    },
    async close() {},
  };
}

describe('AgentClient over a stub transport', () => {
  it('closes the file handle when a read fails', async () => {
    const t = stub({
      'guest-file-open': () => 7,
      'guest-file-read': () => {
        throw new QksError('AGENT_DISCONNECTED', 'gone');
      },
      'guest-file-close': () => ({}),
    });
    const e = await new AgentClient(t).readFile('/x', { method: 'file' }).catch((x: unknown) => x);
    expect(isQksError(e, 'AGENT_DISCONNECTED')).toBe(true);
    expect(t.sent).toEqual(['guest-file-open', 'guest-file-read', 'guest-file-close']);
  });

  it('a failing close does not hide the data', async () => {
    const t = stub({
      'guest-file-open': () => 7,
      'guest-file-read': () => ({ count: 2, 'buf-b64': 'aGk=', eof: true }),
      'guest-file-close': () => {
        throw new QksError('AGENT_TIMEOUT', 'slow');
      },
    });
    expect((await new AgentClient(t).readFile('/x', { method: 'file' })).toString()).toBe('hi');
  });

  it('validates replies: a malformed one is PROTOCOL_ERROR naming the command', async () => {
    const t = stub({ 'guest-exec': () => ({ pid: 'one' }) });
    const e = await new AgentClient(t).exec('/bin/true').catch((x: unknown) => x);
    expect(isQksError(e, 'PROTOCOL_ERROR')).toBe(true);
    expect((e as Error).message).toMatch(/guest-exec.*pid/);
  });

  it('polls exec status with a growing interval and gives up at the deadline', async () => {
    const t = stub({ 'guest-exec': () => ({ pid: 1 }), 'guest-exec-status': () => ({ exited: false }) });
    const started = performance.now();
    const e = await new AgentClient(t).exec('/bin/sleep', ['100'], { timeoutMs: 150 }).catch((x: unknown) => x);
    const ms = performance.now() - started;
    expect(isQksError(e, 'AGENT_TIMEOUT')).toBe(true);
    expect(ms).toBeGreaterThanOrEqual(140);
    expect(ms).toBeLessThan(1_000);
    // 1, 2, 4, ... 50 ms: about 10 polls in 150 ms, not 150
    const polls = t.sent.filter((c) => c === 'guest-exec-status').length;
    expect(polls).toBeGreaterThan(4);
    expect(polls).toBeLessThan(20);
  });

  it('an abort while polling exec status is INTERRUPTED, whatever the abort reason', async () => {
    const t = stub({ 'guest-exec': () => ({ pid: 1 }), 'guest-exec-status': () => ({ exited: false }) });
    const ac = new AbortController();
    const p = new AgentClient(t).exec('/bin/sleep', ['100'], { signal: ac.signal }).catch((x: unknown) => x);
    await expect.poll(() => t.sent.filter((c) => c === 'guest-exec-status').length).toBeGreaterThan(2);
    ac.abort(); // a plain AbortController: its reason is a DOMException, not a QksError
    expect(isQksError(await p, 'INTERRUPTED')).toBe(true);
  });

  it('decodes exec output, signal and truncation flags', async () => {
    const t = stub({
      'guest-exec': (a) => {
        expect(a).toMatchObject({ path: '/bin/x', arg: ['a'], env: ['A=1'], 'input-data': 'aW4=', 'capture-output': true });
        return { pid: 2 };
      },
      'guest-exec-status': () => ({ exited: true, signal: 9, 'out-data': 'b3V0', 'out-truncated': true }),
    });
    const r = await new AgentClient(t).exec('/bin/x', ['a'], { env: { A: '1' }, input: 'in' });
    expect(r).toEqual({ exitCode: undefined, signal: 9, stdout: Buffer.from('out'), stderr: Buffer.alloc(0), stdoutTruncated: true, stderrTruncated: false });
  });
});
