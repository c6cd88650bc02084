/**
 * openAgent from a VM name: discovery in a fake libvirt tree whose sockets are live fake agents, the
 * dedicated channel preferred, fallback to the standard one, and one error that lists every attempt.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { agentCandidates, openAgent } from '../../src/agent/connect.js';
import { connectDirect } from '../../src/agent/direct.js';
import { isQksError, QksError } from '../../src/errors.js';
import { startFakeAgent, type FakeAgentFaults } from '../../src/fake-agent/index.js';
import { DEDICATED_CHANNEL, STANDARD_CHANNEL } from '../../src/libvirt/channel-names.js';
import { rejectionOf } from '../helpers/errors.js';

const cleanups: (() => Promise<void> | void)[] = [];
/** These tests are about channel sockets: keep a libvirtd that may run on this host out of them. */
const DIRECT_ONLY = { libvirtCandidates: () => [] };
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
describe('openAgent by VM name', () => {
  it('prefers the dedicated channel when both answer', async () => {
    const root = await libvirtTree({ [DEDICATED_CHANNEL]: {}, [STANDARD_CHANNEL]: {} });
    const c = await openAgent({ vmName: 'vm1' }, { root, env: {}, ...DIRECT_ONLY });
    expect(c.transportInfo).toMatchObject({ kind: 'direct', channel: DEDICATED_CHANNEL, domain: 'vm1' });
    await c.ping();
    await c.close();
  });

  it('falls back to the standard channel when the dedicated one has no agent', async () => {
    const root = await libvirtTree({ [DEDICATED_CHANNEL]: { neverAnswer: true }, [STANDARD_CHANNEL]: {} });
    const c = await openAgent({ vmName: 'vm1' }, { root, env: {}, handshakeTimeoutMs: 200, ...DIRECT_ONLY });
    expect(c.transportInfo.channel).toBe(STANDARD_CHANNEL);
    await c.close();
  });

  it('libvirt holds the standard channel and there is no dedicated one: SOCKET_HELD saying what to do', async () => {
    const root = await libvirtTree({ [STANDARD_CHANNEL]: { neverAnswer: true } });
    const e = await rejectionOf(openAgent({ vmName: 'vm1' }, { root, env: {}, handshakeTimeoutMs: 200, ...DIRECT_ONLY }));
    expect(e.code).toBe('SOCKET_HELD');
    expect(e.hint).toMatch(/dedicated channel org\.qemu\.guest_agent\.1/);
  });

  it('lists every attempt when all fail', async () => {
    const root = await libvirtTree({ [DEDICATED_CHANNEL]: { neverAnswer: true }, [STANDARD_CHANNEL]: { garbageOnly: true } });
    const e = await rejectionOf(openAgent({ vmName: 'vm1' }, { root, env: {}, handshakeTimeoutMs: 200, ...DIRECT_ONLY }));
    expect(e.code).toBe('SOCKET_HELD');
    expect(e.message).toMatch(/tried:\n {2}- dedicated channel .*org\.qemu\.guest_agent\.1: .*\[SOCKET_HELD\]\n {2}- standard channel .*\[PROTOCOL_ERROR\]/);
    expect(e.details.attempts).toHaveLength(2);
  });

  it('no socket for the VM: SOCKET_NOT_FOUND naming the places searched', async () => {
    const root = await libvirtTree({});
    const e = await rejectionOf(openAgent({ vmName: 'other' }, { root, env: {}, ...DIRECT_ONLY }));
    expect(e.code).toBe('SOCKET_NOT_FOUND');
    expect(e.hint).toMatch(/--socket/);
    expect((e.details.searched as string[]).length).toBeGreaterThan(3);
  });

  it('an explicit socket wins over discovery; neither is a usage error', async () => {
    const root = await libvirtTree({ [DEDICATED_CHANNEL]: {} });
    const cands = await agentCandidates({ socket: '/x.sock', vmName: 'vm1' }, { root, env: {} });
    expect(cands.map((c) => c.label)).toEqual(['socket /x.sock']);
    expect((await rejectionOf(openAgent({}, { env: {} }))).code).toBe('USAGE');
  });

  it('takes the URI from LIBVIRT_URI and refuses a bad one', async () => {
    expect((await rejectionOf(openAgent({ vmName: 'vm1' }, { env: { LIBVIRT_URI: 'bogus' } }))).code).toBe('CONFIG_INVALID');
  });

  it('goes on to libvirtd when the channel sockets fail, and reports the discovery failure beside the others', async () => {
    const root = await libvirtTree({ [STANDARD_CHANNEL]: { neverAnswer: true } });
    const other = await libvirtTree({ [DEDICATED_CHANNEL]: {} });
    const viaLibvirt = { label: 'libvirtd (stub)', kind: 'libvirt' as const, open: () => connectDirect(join(other, 'run/libvirt/qemu/channel/1-vm1', DEDICATED_CHANNEL)) };
    const c = await openAgent({ vmName: 'vm1' }, { root, env: {}, handshakeTimeoutMs: 150, libvirtCandidates: () => [viaLibvirt] });
    await c.ping();
    await c.close();
    const failing = { label: 'libvirtd (stub)', kind: 'libvirt' as const, open: () => Promise.reject(new QksError('VM_NOT_FOUND', 'no domain vm9')) };
    const e = await rejectionOf(openAgent({ vmName: 'vm9' }, { root, env: {}, libvirtCandidates: () => [failing] }));
    expect(e.code).toBe('VM_NOT_FOUND');
    expect((e.details.attempts as { code: string }[]).map((a) => a.code)).toEqual(['SOCKET_NOT_FOUND', 'VM_NOT_FOUND']);
  });

  it('by default the libvirt candidate is libvirtd for the URI', async () => {
    const cands = await agentCandidates({ vmName: 'nowhere', transport: 'libvirt' }, { env: { LIBVIRT_URI: 'qemu:///session' } });
    expect(cands.map((c) => c.kind)).toEqual(['libvirt']);
    expect(cands[0]!.label).toMatch(/^libvirtd .*\(qemu:\/\/\/session\)$/);
  });

  it('adds libvirt candidates after the channel sockets, and only them with transport libvirt', async () => {
    const root = await libvirtTree({ [STANDARD_CHANNEL]: { neverAnswer: true } });
    const libvirtCandidates = () => [{ label: 'libvirtd', kind: 'libvirt' as const, open: () => Promise.reject(new Error('unused')) }];
    expect((await agentCandidates({ vmName: 'vm1' }, { root, env: {}, libvirtCandidates })).map((c) => c.kind)).toEqual(['direct', 'libvirt']);
    expect((await agentCandidates({ vmName: 'vm1', transport: 'libvirt' }, { root, env: {}, libvirtCandidates })).map((c) => c.kind)).toEqual(['libvirt']);
    expect((await agentCandidates({ vmName: 'vm1', transport: 'direct' }, { root, env: {}, libvirtCandidates })).map((c) => c.kind)).toEqual(['direct']);
  });
});
