import { describe, expect, it } from 'vitest';
import { matchFast } from './fast.js';

const argv = (...words: string[]) => ['node', 'qemu-kubesolo', ...words];

describe('matchFast: the agent lines that run without commander', () => {
  it('takes agent ping|cat with global flags before the verb and --long options of the subcommand', () => {
    expect(matchFast(argv('agent', 'ping', '--socket', '/s'))).toEqual({ sub: 'ping', globals: {}, flags: { socket: '/s' }, args: [] });
    expect(matchFast(argv('--json', '-q', '--no-color', 'agent', 'cat', '--socket=/s', '--timeout', '5', '--method', 'exec', '/etc/hostname'))).toEqual({
      sub: 'cat',
      globals: { json: true, quiet: true, color: false },
      flags: { socket: '/s', timeout: '5', method: 'exec' },
      args: ['/etc/hostname'],
    });
    // the attribute names are commander's: --vm-name is vmName, --libvirt-uri libvirtUri, --max-bytes maxBytes
    expect(matchFast(argv('agent', 'cat', '--vm-name', 'vm', '--libvirt-uri', 'qemu:///session', '--max-bytes', '10', '/f'))?.flags).toEqual({
      vmName: 'vm',
      libvirtUri: 'qemu:///session',
      maxBytes: '10',
    });
  });

  it.each([
    ['another verb', ['kubeconfig', '--socket', '/s']],
    ['another subcommand', ['agent', 'exec', '--socket', '/s', '/bin/true']],
    ['help', ['agent', 'ping', '--help']],
    ['a short flag', ['agent', 'ping', '-h']],
    ['an unknown option', ['agent', 'ping', '--bogus', 'x']],
    ['an option of the other subcommand', ['agent', 'ping', '--method', 'file']],
    ['a repeated option', ['agent', 'ping', '--socket', '/a', '--socket', '/b']],
    ['a value that looks like an option', ['agent', 'ping', '--socket', '--json']],
    ['a missing value', ['agent', 'ping', '--socket']],
    ['a global flag after the verb', ['agent', 'ping', '--json', '--socket', '/s']],
    ['--', ['agent', 'cat', '--socket', '/s', '--', '/f']],
    ['a missing path', ['agent', 'cat', '--socket', '/s']],
    ['two paths', ['agent', 'cat', '--socket', '/s', '/a', '/b']],
    ['an argument to ping', ['agent', 'ping', 'extra']],
    ['nothing', []],
    ['--version with a verb', ['--version', 'agent', 'ping']],
  ])('leaves %s to commander', (_name, words) => {
    expect(matchFast(argv(...words))).toBeUndefined();
  });
});
