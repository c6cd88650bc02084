import { describe, expect, it } from 'vitest';
import { ERROR_CODES, EXIT, QksError, toQksError, zodIssuesToMessage } from './errors.js';

describe('QksError', () => {
  it('maps every code to a documented exit status', () => {
    const exits = new Set<number>(Object.values(EXIT));
    for (const [code, info] of Object.entries(ERROR_CODES)) expect(exits.has(info.exit), code).toBe(true);
  });

  it('carries code, hint, retryable and a JSON form without empty fields', () => {
    const e = new QksError('SOCKET_NOT_FOUND', 'no socket at /x', { hint: 'start the VM' });
    expect(e.exitCode).toBe(EXIT.NOT_FOUND);
    expect(e.retryable).toBe(true);
    expect(e.toJSON()).toEqual({ code: 'SOCKET_NOT_FOUND', message: 'no socket at /x', hint: 'start the VM', retryable: true });
  });

  it('wraps foreign errors as INTERNAL and keeps its own', () => {
    const own = new QksError('USAGE', 'x');
    expect(toQksError(own)).toBe(own);
    expect(toQksError(new TypeError('boom')).code).toBe('INTERNAL');
  });

  it('names fields in validation messages', () => {
    expect(zodIssuesToMessage([{ path: ['hostname'], message: 'bad' }], { hostname: '--hostname (VM_HOSTNAME)' })).toBe(
      '--hostname (VM_HOSTNAME): bad',
    );
  });
});
