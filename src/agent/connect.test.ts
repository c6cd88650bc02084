import { describe, expect, it } from 'vitest';
import { QksError } from '../errors.js';
import { openAgent } from './connect.js';
import type { AgentCandidate } from './transport.js';

const failing = (label: string, code: 'VM_NOT_FOUND' | 'SOCKET_NOT_FOUND' | 'LIBVIRT_AUTH', message: string): AgentCandidate => ({
  label,
  kind: 'libvirt',
  open: () => Promise.reject(new QksError(code, message)),
});

describe('openAgent: when every way fails', () => {
  it('names each attempt with its code, without repeating the code the CLI prints after the message', async () => {
    const e = (await openAgent({ vmName: 'vm' }, { candidates: [failing('standard channel /s', 'SOCKET_NOT_FOUND', 'no socket'), failing('libvirtd /l', 'VM_NOT_FOUND', 'domain "vm" not found')] }).catch((x: unknown) => x)) as QksError;
    expect(e.code).toBe('VM_NOT_FOUND');
    // the CLI prints `${message} [${code}]`: the last line must not end in the same code already
    const printed = `${e.message} [${e.code}]`;
    expect(printed).not.toMatch(/\[VM_NOT_FOUND\] \[VM_NOT_FOUND\]/);
    expect(printed).toMatch(/- standard channel \/s: no socket \[SOCKET_NOT_FOUND\]\n {2}- libvirtd \/l: domain "vm" not found \[VM_NOT_FOUND\]$/);
  });

  it('keeps the code on a last line whose code is not the main one', async () => {
    const e = (await openAgent({ vmName: 'vm' }, { candidates: [failing('a', 'LIBVIRT_AUTH', 'denied'), failing('b', 'VM_NOT_FOUND', 'gone')] }).catch((x: unknown) => x)) as QksError;
    expect(e.code).toBe('LIBVIRT_AUTH');
    expect(e.message).toMatch(/- b: gone \[VM_NOT_FOUND\]$/);
  });
});
