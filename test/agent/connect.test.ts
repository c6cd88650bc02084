/**
 * openAgent from a VM name: discovery in a fake libvirt tree whose sockets are live fake agents, the
 * dedicated channel preferred, fallback to the standard one, and one error that lists every attempt.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { agentCandidates, openAgent } from '../../src/agent/connect.js';
import { isQksError, type QksError } from '../../src/errors.js';
import { startFakeAgent, type FakeAgentFaults } from '../../src/fake-agent/index.js';
import { DEDICATED_CHANNEL, STANDARD_CHANNEL } from '../../src/libvirt/channels.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A fake root with /run/libvirt/qemu/channel/1-vm1/ and agents on the given channels. */
async function libvirtTree(agents: Partial<Record<string, FakeAgentFaults>>): Promise<string> {
  const root = mkdtempSync(join(tmpdir(), 'qks-tree-'));
  cleanups.push(() => rmSync(root, { recursive: true, force: true }));
  const dir = join(root, 'run/libvirt/qemu/channel/1-vm1');
  mkdirSync(dir, { recursive: true });
  for (const [channel, faults] of Object.entries(agents)) {
    const a = await startFakeAgent({ socketPath: join(dir, channel), faults: faults ?? {} });
    cleanups.push(() => a.close());
  }
  return root;
}
async function errorOf(p: Promise<unknown>): Promise<QksError> {
  try {
    await p;
  } catch (e) {
    if (isQksError(e)) return e;
    throw e;
  }
  throw new Error('expected an error');
}

describe('openAgent by VM name', () => {
  it('prefers the dedicated channel when both answer', async () => {
    const root = await libvirtTree({ [DEDICATED_CHANNEL]: {}, [STANDARD_CHANNEL]: {} });
    const c = await openAgent({ vmName: 'vm1' }, { root, env: {} });
    expect(c.transportInfo).toMatchObject({ kind: 'direct', channel: DEDICATED_CHANNEL, domain: 'vm1' });
    await c.ping();
    await c.close();
  });

  it('falls back to the standard channel when the dedicated one has no agent', async () => {
    const root = await libvirtTree({ [DEDICATED_CHANNEL]: { neverAnswer: true }, [STANDARD_CHANNEL]: {} });
    const c = await openAgent({ vmName: 'vm1' }, { root, env: {}, handshakeTimeoutMs: 200 });
    expect(c.transportInfo.channel).toBe(STANDARD_CHANNEL);
    await c.close();
  });

  it('libvirt holds the standard channel and there is no dedicated one: SOCKET_HELD saying what to do', async () => {
    const root = await libvirtTree({ [STANDARD_CHANNEL]: { neverAnswer: true } });
    const e = await errorOf(openAgent({ vmName: 'vm1' }, { root, env: {}, handshakeTimeoutMs: 200 }));
    expect(e.code).toBe('SOCKET_HELD');
    expect(e.hint).toMatch(/dedicated channel org\.qemu\.guest_agent\.1/);
  });

  it('lists every attempt when all fail', async () => {
    const root = await libvirtTree({ [DEDICATED_CHANNEL]: { neverAnswer: true }, [STANDARD_CHANNEL]: { garbageOnly: true } });
    const e = await errorOf(openAgent({ vmName: 'vm1' }, { root, env: {}, handshakeTimeoutMs: 200 }));
    expect(e.code).toBe('SOCKET_HELD');
    expect(e.message).toMatch(/tried:\n {2}- dedicated channel .*org\.qemu\.guest_agent\.1: .*\[SOCKET_HELD\]\n {2}- standard channel .*\[PROTOCOL_ERROR\]/);
    expect(e.details.attempts).toHaveLength(2);
  });

  it('no socket for the VM: SOCKET_NOT_FOUND naming the places searched', async () => {
    const root = await libvirtTree({});
    const e = await errorOf(openAgent({ vmName: 'other' }, { root, env: {} }));
    expect(e.code).toBe('SOCKET_NOT_FOUND');
    expect(e.hint).toMatch(/--socket/);
    expect((e.details.searched as string[]).length).toBeGreaterThan(3);
  });

  it('an explicit socket wins over discovery; neither is a usage error', async () => {
    const root = await libvirtTree({ [DEDICATED_CHANNEL]: {} });
    const cands = await agentCandidates({ socket: '/x.sock', vmName: 'vm1' }, { root, env: {} });
    expect(cands.map((c) => c.label)).toEqual(['socket /x.sock']);
    expect((await errorOf(openAgent({}, { env: {} }))).code).toBe('USAGE');
  });

  it('takes the URI from LIBVIRT_URI; a remote URI without another transport is a usage error', async () => {
    const e = await errorOf(openAgent({ vmName: 'vm1' }, { env: { LIBVIRT_URI: 'qemu+ssh://root@hv/system' } }));
    expect(e.code).toBe('USAGE');
    expect((await errorOf(openAgent({ vmName: 'vm1' }, { env: { LIBVIRT_URI: 'bogus' } }))).code).toBe('CONFIG_INVALID');
  });

  it('adds libvirt candidates after the channel sockets, and only them with transport libvirt', async () => {
    const root = await libvirtTree({ [STANDARD_CHANNEL]: { neverAnswer: true } });
    const libvirtCandidates = () => [{ label: 'libvirtd', kind: 'libvirt' as const, open: () => Promise.reject(new Error('unused')) }];
    expect((await agentCandidates({ vmName: 'vm1' }, { root, env: {}, libvirtCandidates })).map((c) => c.kind)).toEqual(['direct', 'libvirt']);
    expect((await agentCandidates({ vmName: 'vm1', transport: 'libvirt' }, { root, env: {}, libvirtCandidates })).map((c) => c.kind)).toEqual(['libvirt']);
    expect((await agentCandidates({ vmName: 'vm1', transport: 'direct' }, { root, env: {}, libvirtCandidates })).map((c) => c.kind)).toEqual(['direct']);
  });
});
