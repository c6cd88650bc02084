import { describe, expect, it } from 'vitest';
import { isQksError, QksError } from '../errors.js';
import { DEFAULT_REMOTE_PATH, parseVmNamesFile, resolveKubeconfigOptions, type KubeconfigInput } from './options.js';

function bad(flags: KubeconfigInput, env: NodeJS.ProcessEnv = {}): QksError {
  try {
    resolveKubeconfigOptions(flags, env);
  } catch (e) {
    if (isQksError(e, 'CONFIG_INVALID')) return e;
    throw e;
  }
  throw new Error('accepted');
}

describe('resolveKubeconfigOptions', () => {
  it('uses the first address when KUBECONFIG_API_ADDRESS lists several (as artifacts accepts)', () => {
    expect(resolveKubeconfigOptions({}, { KUBECONFIG_API_ADDRESS: '203.0.113.1, k8s.example.com' }).apiServer).toMatchObject({ host: '203.0.113.1' });
    expect(resolveKubeconfigOptions({ apiServer: 'k8s.example.com' }, { KUBECONFIG_API_ADDRESS: '203.0.113.1' }).apiServer).toMatchObject({ host: 'k8s.example.com' });
  });

  it('says what a number flag wants when given text', () => {
    expect(bad({ timeoutSec: 'abc' }).message).toBe('--timeout: must be a number of seconds');
    expect(bad({ jobs: 'many' }).message).toMatch(/^--jobs.*: must be a whole number$/);
  });

  it('has the documented defaults', () => {
    const o = resolveKubeconfigOptions({}, {});
    expect(o).toMatchObject({
      vmNames: ['kubesolo'],
      method: 'guest-agent',
      wait: false,
      timeoutSec: 300,
      remotePath: DEFAULT_REMOTE_PATH,
      transport: 'auto',
      libvirtUri: 'qemu:///system',
      sshUser: 'alpine',
      verifyServer: true,
      jobs: 4,
    });
    expect(o.apiServer).toBeUndefined();
  });

  it('flags win over the environment, the environment over defaults', () => {
    const env = { KUBECONFIG_API_ADDRESS: '10.0.0.50', LIBVIRT_URI: 'qemu:///session', VM_USER: 'root', VM_HOSTNAME: 'kube1' };
    expect(resolveKubeconfigOptions({}, env)).toMatchObject({ apiServer: { host: '10.0.0.50' }, libvirtUri: 'qemu:///session', sshUser: 'root', vmNames: ['kube1'] });
    expect(resolveKubeconfigOptions({ apiServer: '[2001:db8::1]:7443', libvirtUri: 'qemu:///system', sshUser: 'bob', vmNames: ['x'] }, env)).toMatchObject({
      apiServer: { host: '2001:db8::1', port: 7443 },
      libvirtUri: 'qemu:///system',
      sshUser: 'bob',
      vmNames: ['x'],
    });
    expect(resolveKubeconfigOptions({}, { VM_NAME: 'a', VM_HOSTNAME: 'b' }).vmNames).toEqual(['a']);
  });

  it('names the bad option (and its variable)', () => {
    expect(bad({ apiServer: 'x;y' }).message).toMatch(/^--api-server \(KUBECONFIG_API_ADDRESS\): /);
    expect(bad({}, { KUBECONFIG_API_ADDRESS: 'http://a' }).message).toMatch(/KUBECONFIG_API_ADDRESS/);
    expect(bad({ method: 'virsh' }).message).toMatch(/^--method: must be guest-agent or ssh/);
    expect(bad({ timeoutSec: '0' }).message).toMatch(/^--timeout: /);
    expect(bad({ timeoutSec: 'soon' }).message).toMatch(/^--timeout: /);
    expect(bad({ jobs: '0' }).message).toMatch(/^--jobs: /);
    expect(bad({ remotePath: 'relative/path' }).message).toMatch(/^--remote-path: must be an absolute path/);
    expect(bad({ remotePath: '/a\nb' }).message).toMatch(/^--remote-path: /);
    expect(bad({ vmNames: ['a/b'] }).message).toMatch(/^--vm-name \(VM_NAME, VM_HOSTNAME\)(\[\d+\])?: /);
    expect(bad({ vmNames: ['ok', '-oops'] }).message).toMatch(/^--vm-name \(VM_NAME, VM_HOSTNAME\)(\[\d+\])?: /);
    expect(bad({ method: 'ssh' }).message).toMatch(/^--vm-ip \(VM_IP\): is required with --method ssh/);
    expect(bad({ method: 'ssh', vmIp: '-oProxyCommand=x' }).message).toMatch(/^--vm-ip/);
    expect(bad({ sshOptions: ['ProxyCommand'] }).message).toMatch(/^--ssh-option/);
    expect(bad({ transport: 'tcp' }).message).toMatch(/^--transport/);
  });

  it('checks the combinations of several VMs', () => {
    expect(bad({ vmNames: ['a', 'b'], output: 'x' }).message).toMatch(/--output-dir/);
    expect(bad({ vmNames: ['a', 'b'], socket: '/s' }).message).toMatch(/\{vm\}/);
    expect(bad({ vmNames: ['a', 'a'] }).message).toMatch(/twice/);
    expect(bad({ vmNames: ['a', 'b'], method: 'ssh', vmIp: '10.0.0.1' }).message).toMatch(/ssh takes one VM/);
    expect(bad({ output: 'x', outputDir: 'y' }).message).toMatch(/not both/);
    expect(resolveKubeconfigOptions({ vmNames: ['a'] }, {}, 'b\n# comment\n\n c \n').vmNames).toEqual(['a', 'b', 'c']);
  });

  it('reads names files', () => expect(parseVmNamesFile('vm1\n  vm2 # second\n#x\n\n')).toEqual(['vm1', 'vm2']));
});
