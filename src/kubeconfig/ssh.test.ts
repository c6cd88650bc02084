import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isQksError } from '../errors.js';
import { fetchViaSsh } from './fetch.js';
import { sshArgs, sshReadFile } from './ssh.js';

describe('sshArgs', () => {
  it('puts user options first, ends options before the host, and never carries the remote path', () => {
    const args = sshArgs({ host: '192.168.122.50', user: 'alpine', port: 2222, key: '-k', options: ['ProxyJump=bastion'] });
    expect(args.slice(0, 2)).toEqual(['-o', 'ProxyJump=bastion']);
    expect(args).toContain('BatchMode=yes');
    expect(args.slice(args.indexOf('-i'), args.indexOf('-i') + 2)).toEqual(['-i', '-k']); // a value, not an option
    const dd = args.indexOf('--');
    expect(args.slice(dd + 1, dd + 2)).toEqual(['192.168.122.50']);
    expect(args).toHaveLength(dd + 3); // host and the constant remote command, nothing after
    expect(args.at(-1)).not.toContain('kubesolo');
  });
});

describe('sshReadFile (with a stand-in ssh)', () => {
  let dir: string;
  let ssh: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'qks-sshread-'));
    ssh = join(dir, 'ssh');
    // prints as many bytes as the path it is sent on stdin names (e.g. /2000): the path comes by stdin only
    writeFileSync(ssh, '#!/bin/sh\nread -r p\nhead -c "${p#/}" /dev/zero | tr "\\0" a\n');
    chmodSync(ssh, 0o755);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('returns a file up to maxBytes and refuses a larger one, naming the real bound', async () => {
    expect((await sshReadFile({ host: 'vm', command: ssh }, '/1000', { maxBytes: 1000 })).length).toBe(1000);
    // through fetchViaSsh, as `kubeconfig --method ssh` reads: the message names the bound the user has
    expect((await fetchViaSsh({ host: 'vm', command: ssh }, '/1000', { maxBytes: 1000 })).data.length).toBe(1000);
    const e = await fetchViaSsh({ host: 'vm', command: ssh }, '/200000', { maxBytes: 1000 }).catch((x: unknown) => x);
    expect(isQksError(e, 'KUBECONFIG_INVALID')).toBe(true);
    expect((e as Error).message).toMatch(/larger than 1000 bytes/);
  });

  it('refuses a relative path or a line break before running anything', async () => {
    for (const p of ['relative', '/a\nb']) {
      await expect(sshReadFile({ host: 'vm', command: '/nonexistent/ssh' }, p, { maxBytes: 10 })).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
    }
  });
});
