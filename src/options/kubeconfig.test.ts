/**
 * The kubeconfig rows' plain parsers give what their zod schemas gave (the messages are CLI output):
 * each case below is what zod 4 answered for the same row and input before the rows lost zod.
 */
import { describe, expect, it } from 'vitest';
import { KUBECONFIG_OPTIONS } from './kubeconfig.js';

type Row = keyof typeof KUBECONFIG_OPTIONS;
const run = (row: Row, v: unknown) => {
  const r = KUBECONFIG_OPTIONS[row].parse(v);
  if (r.ok) return { ok: r.value };
  return { issues: (r.issues ?? (typeof r.message === 'string' ? [r.message] : r.message).map((message) => ({ path: [], message }))).map((i) => [i.path, i.message]) };
};
const bad = (...issues: [PropertyKey[], string][]) => ({ issues });

describe('kubeconfig option rows', () => {
  it.each<[Row, unknown, unknown]>([
    ['vmNames', [], bad([[], 'give at least one VM name'])],
    ['vmNames', ['a', ''], bad([[1], 'must not be empty'])],
    ['vmNames', 'x', bad([[], 'Invalid input: expected array, received string'])],
    ['vmNames', [1], bad([[0], 'Invalid input: expected string, received number'])],
    ['merge', true, { ok: true }],
    ['merge', '', bad([[], 'must name a file'])],
    ['merge', 'f', { ok: 'f' }],
    ['merge', 1, bad([[], 'Invalid input'])],
    ['timeoutSec', 'x', bad([[], 'must be a number of seconds'])],
    ['timeoutSec', '0', bad([[], 'must be at least 1'])],
    ['timeoutSec', '0.5', bad([[], 'must be a whole number of seconds'])],
    ['timeoutSec', '1e20', bad([[], 'must be a whole number of seconds'], [[], 'must be at most 86400 (a day)'])],
    ['timeoutSec', '-3', bad([[], 'must be at least 1'])],
    ['timeoutSec', '100000', bad([[], 'must be at most 86400 (a day)'])],
    ['timeoutSec', 'Infinity', bad([[], 'must be a number of seconds'])],
    ['timeoutSec', '', bad([[], 'must be at least 1'])],
    ['timeoutSec', undefined, bad([[], 'must be a number of seconds'])],
    ['timeoutSec', 5, { ok: 5 }],
    ['sshPort', 'x', bad([[], 'must be a port number (1-65535)'])],
    ['sshPort', '0', bad([[], 'must be a port number (1-65535)'])],
    ['sshPort', '0.5', bad([[], 'must be a port number (1-65535)'])],
    ['sshPort', '1e20', bad([[], 'must be a port number (1-65535)'], [[], 'must be a port number (1-65535)'])],
    ['sshPort', '70000', bad([[], 'must be a port number (1-65535)'])],
    ['sshPort', undefined, { ok: undefined }],
    ['sshPort', '22', { ok: 22 }],
    ['jobs', 'x', bad([[], 'must be a whole number'])],
    ['jobs', '0', bad([[], 'must be at least 1'])],
    ['jobs', '0.5', bad([[], 'must be a whole number'])],
    ['jobs', '1e20', bad([[], 'must be a whole number'], [[], 'must be at most 64'])],
    ['jobs', '70', bad([[], 'must be at most 64'])],
    ['jobs', '3', { ok: 3 }],
    ['wait', 1, bad([[], 'Invalid input: expected boolean, received number'])],
    ['wait', 'yes', bad([[], 'Invalid input: expected boolean, received string'])],
    ['wait', undefined, bad([[], 'Invalid input: expected boolean, received undefined'])],
    ['sshOptions', ['a=b', 'bad', 'c=d'], bad([[1], 'must be Key=Value, as ssh -o takes'])],
    ['sshOptions', 'x', bad([[], 'Invalid input: expected array, received string'])],
    ['output', '', bad([[], 'Too small: expected string to have >=1 characters'])],
    ['output', undefined, { ok: undefined }],
    ['output', 5, bad([[], 'Invalid input: expected string, received number'])],
    ['apiServer', '', { ok: undefined }],
    ['apiServer', 'bad host!', bad([[], '"bad host!" is not an IP address or DNS name (optionally with :PORT, IPv6 as [addr]:PORT)'])],
    ['apiServer', '10.0.0.1', { ok: { host: '10.0.0.1' } }],
    ['apiServer', 5, bad([[], 'Invalid input: expected string, received number'])],
    ['sshUser', '', bad([[], 'must be a user name'])],
    ['sshUser', 'ok', { ok: 'ok' }],
    ['sshUser', 5, bad([[], 'Invalid input: expected string, received number'])],
    ['sshUser', 'a b', bad([[], 'must be a user name'])],
    ['vmIp', '', bad([[], 'must be an IP address or host name'])],
    ['vmIp', 'x!', bad([[], 'must be an IP address or host name'])],
    ['vmIp', '[::1]', { ok: '[::1]' }],
    ['vmIp', '10.0.0.1', { ok: '10.0.0.1' }],
    ['remotePath', '', bad([[], 'must be an absolute path'])],
    ['remotePath', 'rel/path', bad([[], 'must be an absolute path'])],
    ['remotePath', '/ok', { ok: '/ok' }],
    ['remotePath', 5, bad([[], 'Invalid input: expected string, received number'])],
    ['context', 5, bad([[], 'Invalid input: expected string, received number'])],
    ['context', '', { ok: '' }],
  ])('%s %j', (row, input, want) => {
    expect(run(row, input)).toEqual(want);
  });
});
