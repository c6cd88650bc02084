import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { parseLibvirtUri } from '../libvirt/uri.js';
import { parseScanOutput, type RemoteDiscovery } from './discover.js';
import { remoteDiscoveryError } from './errors.js';
import { classifySshFailure, describeDestination, remoteCommand, sshBaseArgs } from '../ssh/index.js';
import { remoteHelper, sshDestination, uriSshHints, validateVmName } from './destination.js';

const dest = (raw: string) => sshDestination(parseLibvirtUri(raw));

describe('remoteCommand', () => {
  it('passes hostile arguments to the script as data', () => {
    const words = ['x; touch /tmp/qks-never', '$(id)', '`id`', "a'b", '"; exit 3; "', '\\', '*'];
    const r = spawnSync('sh', ['-c', remoteCommand('for a in "$@"; do printf "[%s]" "$a"; done', words)], { encoding: 'utf8' });
    expect(r.stdout).toBe(words.map((w) => `[${w}]`).join(''));
  });
});

describe('sshDestination / sshBaseArgs', () => {
  it('takes user, host, port, keyfile and no_verify from the URI as libvirt does', () => {
    const d = dest('qemu+ssh://admin@hv1.example:2222/system?keyfile=/k/id&no_verify=1');
    expect(d).toEqual({ host: 'hv1.example', user: 'admin', port: 2222, keyfile: '/k/id', hostKey: 'no' });
    expect(describeDestination(d)).toBe('admin@hv1.example:2222');
    const args = sshBaseArgs(d, { configFile: '/cfg', connectTimeoutSec: 10 }, {});
    expect(args.slice(0, 2)).toEqual(['-F', '/cfg']);
    expect(args.join(' ')).toContain('-o BatchMode=yes');
    expect(args.join(' ')).toContain('-o StrictHostKeyChecking=no');
    expect(args.join(' ')).toContain('-p 2222 -l admin -i /k/id');
  });

  it('leaves host keys, user and key to the user ssh config when the URI does not say', () => {
    const args = sshBaseArgs(dest('qemu+ssh://hv1/system'), { connectTimeoutSec: 10 }, {});
    expect(args.join(' ')).not.toMatch(/StrictHostKeyChecking|-p |-l |-i |-F /);
    expect(sshBaseArgs(dest('qemu+ssh://hv1/system'), { connectTimeoutSec: 10 }, { QKS_SSH_CONFIG: '/x' }).slice(0, 2)).toEqual(['-F', '/x']);
  });

  it('refuses hosts and users ssh could take for options, and unknown parameters', () => {
    expect(() => dest('qemu+ssh://-oProxyCommand=touch%20x/system')).toThrow(/host/);
    expect(() => dest('qemu+ssh://-oProxyCommand=x@hv1/system')).toThrow(/user/);
    expect(() => dest('qemu+ssh://hv1/system?command=/bin/sh')).toThrow(/not supported over ssh/);
  });
});

describe('validateVmName', () => {
  it('accepts libvirt names and refuses path tricks', () => {
    for (const ok of ['kubesolo', 'web-1', 'x; touch pwned', '$(id)', 'a b']) expect(validateVmName(ok)).toBe(ok);
    for (const bad of ['', '.', '..', '../etc', 'a/b', 'x\nrm', '-rf', 'a:b']) expect(() => validateVmName(bad)).toThrow(/invalid VM name/);
  });
});

describe('classifySshFailure', () => {
  const d = dest('qemu+ssh://root@127.0.0.1:2200/system');
  it.each([
    ['No ED25519 host key is known for [127.0.0.1]:2200 and you have requested strict checking.\r\nHost key verification failed.', 'SSH_HOST_KEY'],
    ['@@@ WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED! @@@', 'SSH_HOST_KEY'],
    ['root@127.0.0.1: Permission denied (publickey).', 'SSH_AUTH'],
    ['ssh: connect to host 10.0.0.9 port 22: Connection timed out', 'SSH_TIMEOUT'],
    ['Connection timed out during banner exchange', 'SSH_TIMEOUT'],
    ['ssh: connect to host 127.0.0.1 port 2200: Connection refused', 'SSH_FAILED'],
    ['ssh: Could not resolve hostname nope: Name or service not known', 'SSH_FAILED'],
  ])('%s → %s', (stderr, code) => {
    const e = classifySshFailure(stderr, d, 'connect', uriSshHints(d));
    expect(e.code).toBe(code);
    expect(e.message).toContain('root@127.0.0.1:2200');
    expect(e.hint).toBeTruthy();
  });
});

describe('parseScanOutput / remoteDiscoveryError', () => {
  it('reads status XML blocks, entries, socket tests and denied dirs', () => {
    const b = '--qks-1--';
    const out = ["X /run/libvirt/qemu/vm.xml", "<domain id='3'>", '</domain>', b, 'E /run/libvirt/qemu/channel/3-vm', 'S ok /run/libvirt/qemu/channel/3-vm/org.qemu.guest_agent.1', 'S perm /x y/org.qemu.guest_agent.0', 'D /var/lib/libvirt/qemu', ''].join('\n');
    const s = parseScanOutput(out, b);
    expect(s.xml).toEqual([{ path: '/run/libvirt/qemu/vm.xml', text: "<domain id='3'>\n</domain>" }]);
    expect(s.entries).toEqual(['/run/libvirt/qemu/channel/3-vm']);
    expect([...s.tested]).toEqual([
      ['/run/libvirt/qemu/channel/3-vm/org.qemu.guest_agent.1', 'ok'],
      ['/x y/org.qemu.guest_agent.0', 'perm'],
    ]);
    expect(s.denied).toEqual(['/var/lib/libvirt/qemu']);
  });

  it('says permission when sockets exist but the SSH user may not open them, naming the host', () => {
    const base = { via: 'u@hv1', sockets: [], searched: ['/a'], denied: [] };
    const forbidden: RemoteDiscovery['forbidden'] = [{ path: '/s', channel: 'org.qemu.guest_agent.1', source: 'state-dir' }];
    const perm = remoteDiscoveryError({ ...base, forbidden }, 'vm');
    expect(perm.code).toBe('SOCKET_PERMISSION');
    expect(perm.message).toContain('u@hv1');
    const missing = remoteDiscoveryError({ ...base, forbidden: [] }, 'vm');
    expect(missing.code).toBe('SOCKET_NOT_FOUND');
    expect(missing.message).toContain('on u@hv1');
  });
});

describe('remoteHelper (libvirt proxy=, socket=, netcat=, name=)', () => {
  const h = (raw: string) => remoteHelper(parseLibvirtUri(raw));
  it('defaults as libvirt does: auto, nc, the mode URI', () => {
    expect(h('qemu+ssh://hv1/system')).toEqual({ proxy: 'auto', netcat: 'nc', name: 'qemu:///system' });
    expect(h('qemu+ssh://hv1/system?proxy=netcat&socket=/run/x/libvirt-sock&netcat=/opt/nc&name=qemu:///system')).toEqual({ proxy: 'netcat', socket: '/run/x/libvirt-sock', netcat: '/opt/nc', name: 'qemu:///system' });
  });
  it('refuses what libvirt refuses', () => {
    expect(() => h('qemu+ssh://hv1/system?proxy=ext')).toThrow(/proxy=ext/);
    expect(() => h('qemu+ssh://hv1/system?proxy=native&netcat=nc')).toThrow(/not permitted with proxy=native/);
    expect(() => h('qemu+ssh://hv1/system?socket=relative')).toThrow(/absolute/);
  });
});
