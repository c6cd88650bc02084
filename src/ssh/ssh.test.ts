import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { SRC, sourceFiles } from '../../test/helpers/source.js';
import { describe, expect, it } from 'vitest';
import { classifySshFailure, describeDestination, pooledHost, sshBaseArgs, sshFailureKind, SshPool } from './index.js';

describe('sshBaseArgs (one builder for --method ssh and qemu+ssh)', () => {
  it("puts the caller's -o options first (ssh keeps the first value), then ours; never a host", () => {
    const a = sshBaseArgs({ host: 'h', user: 'u', port: 2222, keyfile: '/k', identitiesOnly: true, hostKey: 'accept-new', options: ['ProxyJump=b'] }, { connectTimeoutSec: 7, logLevel: 'ERROR' }, {});
    expect(a.slice(0, 2)).toEqual(['-o', 'ProxyJump=b']);
    expect(a.join(' ')).toContain('-o BatchMode=yes -o ConnectTimeout=7');
    expect(a.join(' ')).toContain('-o StrictHostKeyChecking=accept-new -o LogLevel=ERROR -p 2222 -l u -i /k -o IdentitiesOnly=yes');
    expect(a).not.toContain('h');
  });
  it('no_verify is StrictHostKeyChecking=no; config leaves it to ssh_config', () => {
    expect(sshBaseArgs({ host: 'h', hostKey: 'no' }, { connectTimeoutSec: 1 }, {}).join(' ')).toContain('StrictHostKeyChecking=no');
    expect(sshBaseArgs({ host: 'h' }, { connectTimeoutSec: 1 }, {}).join(' ')).not.toContain('StrictHostKeyChecking');
  });
  it('describes IPv6 destinations with brackets', () => {
    expect(describeDestination({ host: '::1', user: 'r', port: 22 })).toBe('r@[::1]:22');
  });
});

describe('classifySshFailure', () => {
  it('one classification, with the caller naming its own fixes', () => {
    expect(sshFailureKind('root@h: Permission denied (publickey).')).toBe('auth');
    const e = classifySshFailure('root@h: Permission denied (publickey).', { host: 'h', user: 'root' }, 'connect', { auth: 'use --ssh-key' });
    expect(e).toMatchObject({ code: 'SSH_AUTH', hint: 'use --ssh-key' });
    expect(e.message).toMatch(/refused the SSH key$/);
    expect(classifySshFailure('ssh: connect to host h port 22: Connection refused', { host: 'h' })).toMatchObject({ code: 'SSH_FAILED', retryable: true });
  });
});

describe('SshPool', () => {
  it('one connection per destination, owned by whoever made the pool; unusable after close()', async () => {
    const pool = new SshPool();
    const a = pooledHost(pool, { host: 'h1' }, {}, {});
    expect(pooledHost(pool, { host: 'h1' }, {}, {})).toBe(a);
    expect(pooledHost(pool, { host: 'h2' }, {}, {})).not.toBe(a);
    expect(pooledHost(pool, { host: 'h1' }, { connectTimeoutSec: 3 }, {})).not.toBe(a);
    await pool.close();
    expect(a.isClosed).toBe(true);
    expect(() => pooledHost(pool, { host: 'h1' }, {}, {})).toThrow(/after close/);
  });
});

describe('the house rule: nothing below src/cli/ installs process handlers or exits', () => {
  it('no process.on / process.exit outside src/cli/', () => {
    const offenders = sourceFiles([join(SRC, 'cli')])
      .filter((p) => /process\.(on|once|exit)\(/.test(readFileSync(p, 'utf8')))
      .map((p) => relative(SRC, p));
    expect(offenders).toEqual([]);
  });
});
