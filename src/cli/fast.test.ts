import { describe, expect, it } from 'vitest';
import { Command } from 'commander';
import { KUBECONFIG_OPTIONS } from '../options/kubeconfig.js';
import { matchFast, matchVerb } from './fast.js';
import { addOptions } from './options.js';

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

describe('matchVerb: the kubeconfig lines that run without commander', () => {
  // commander's parse of the same line, set up as src/cli/main.ts and src/cli/kubeconfig.ts do
  const commanderParse = (words: string[]) => {
    const program = new Command().exitOverride().option('--json').option('-q, --quiet').option('-v, --verbose').option('--no-color');
    let got: { globals: Record<string, unknown>; flags: Record<string, unknown> } | undefined;
    addOptions(program.command('kubeconfig').exitOverride(), KUBECONFIG_OPTIONS).action((opts: Record<string, unknown>, cmd: Command) => {
      const { json, quiet, verbose, color } = cmd.optsWithGlobals();
      got = { globals: Object.fromEntries(Object.entries({ json, quiet, verbose, color }).filter(([k, v]) => v !== undefined && !(k === 'color' && v === true))), flags: { ...opts } };
    });
    program.parse(argv(...words));
    return got;
  };

  it.each([
    [['kubeconfig', '--socket', '/s', '--remote-path', '/f', '--api-server', '10.0.0.50', '--output', '/o', '--no-verify-server', '--quiet']],
    [['--json', 'kubeconfig', '-o', '/o', '--vm-name', 'a', '--vm-name', 'b', '-j', '2', '--wait', '-v', '--timeout=30']],
    [['-q', 'kubeconfig', '--output=-', '--allow-unsafe-kubeconfig', '--no-color', '--ssh-option', 'A=b', '--ssh-option', 'C=d', '--ready']],
    [['kubeconfig', '--output', '-', '--vm-name', 'kubesolo']],
    [['kubeconfig']],
    [['kubeconfig', '--api-server', '', '--context', 'ctx', '--use-context']],
  ])('parses %j as commander does', (words) => {
    expect(matchVerb(argv(...words), 'kubeconfig', KUBECONFIG_OPTIONS)).toEqual(commanderParse(words));
  });

  it.each([
    ['another verb', ['agent', 'ping', '--socket', '/s']],
    ['help', ['kubeconfig', '--help']],
    ['-h', ['kubeconfig', '-h']],
    ['an unknown option', ['kubeconfig', '--bogus']],
    ['an optional value', ['kubeconfig', '--merge']],
    ['a repeated option', ['kubeconfig', '-o', '/a', '--output', '/b']],
    ['a value that looks like an option', ['kubeconfig', '--output', '--json']],
    ['a missing value', ['kubeconfig', '--output']],
    ['a switch with a value', ['kubeconfig', '--wait=yes']],
    ['combined short flags', ['kubeconfig', '-oout']],
    ['an argument', ['kubeconfig', 'extra']],
    ['--', ['kubeconfig', '--', '--wait']],
    ['--version', ['kubeconfig', '--version']],
  ])('leaves %s to commander', (_name, words) => {
    expect(matchVerb(argv(...words), 'kubeconfig', KUBECONFIG_OPTIONS)).toBeUndefined();
  });
});
