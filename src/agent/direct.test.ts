import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startFakeAgent, type FakeAgent } from '../fake-agent/index.js';
import { connectDirect } from './direct.js';
import { disconnectedError } from './errors.js';

// the real factory, counted: a normal close must not build an error nobody will see
vi.mock('./errors.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('./errors.js')>();
  return { ...real, disconnectedError: vi.fn(real.disconnectedError) };
});

const dir = mkdtempSync(join(tmpdir(), 'qks-direct-'));
let agent: FakeAgent;
beforeAll(async () => {
  agent = await startFakeAgent({ socketPath: join(dir, 'qga.sock') });
});
afterAll(async () => {
  await agent.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('DirectTransport close', () => {
  it('closes without building an error; later commands are AGENT_DISCONNECTED naming the command', async () => {
    const t = await connectDirect(agent.socketPath);
    await t.execute('guest-ping');
    vi.mocked(disconnectedError).mockClear();
    await t.close();
    await new Promise((r) => setTimeout(r, 20)); // the socket's 'close' event as well
    expect(disconnectedError).not.toHaveBeenCalled();
    await expect(t.execute('guest-ping')).rejects.toMatchObject({ code: 'AGENT_DISCONNECTED', message: expect.stringMatching(/guest-ping/) });
    await t.close(); // idempotent
  });

  it('a command waiting when the connection closes fails AGENT_DISCONNECTED naming it; the socket is free for the next caller at once', async () => {
    agent.faults.delayCommands = { 'guest-info': 300 };
    try {
      const t = await connectDirect(agent.socketPath);
      const waiting = t.execute('guest-info').catch((e: unknown) => e);
      await new Promise((r) => setTimeout(r, 20));
      await t.close();
      expect(await waiting).toMatchObject({ code: 'AGENT_DISCONNECTED', message: expect.stringMatching(/guest-info/) });
      const next = await connectDirect(agent.socketPath, { lock: { timeoutMs: 1_000 } });
      await next.execute('guest-ping');
      await next.close();
    } finally {
      agent.faults.delayCommands = {};
    }
  });
});
