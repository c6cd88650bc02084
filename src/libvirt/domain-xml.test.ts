import { describe, expect, it } from 'vitest';
import { isQksError } from '../errors.js';
import { domainXml, parseNetwork, xmlEscape } from './domain-xml.js';

const base = { name: 'kubesolo', disk: '/var/lib/libvirt/images/kubesolo.qcow2', iso: '/var/lib/libvirt/images/cidata.iso' };

describe('domainXml', () => {
  it('has the guide defaults: 512 MiB, 2 vCPUs, kvm, q35, network default, both agent channels', () => {
    const xml = domainXml(base);
    expect(xml).toContain(`<domain type='kvm'>`);
    expect(xml).toContain(`<name>kubesolo</name>`);
    expect(xml).toContain(`<memory unit='MiB'>512</memory>`);
    expect(xml).toContain(`<vcpu>2</vcpu>`);
    expect(xml).toContain(`machine='q35'`);
    expect(xml).toContain(`<driver name='qemu' type='qcow2'/>\n      <source file='/var/lib/libvirt/images/kubesolo.qcow2'/>`);
    expect(xml).toMatch(/<disk type='file' device='cdrom'>[\s\S]*<source file='\/var\/lib\/libvirt\/images\/cidata.iso'\/>\s*<target dev='sda' bus='sata'\/>\s*<readonly\/>/);
    expect(xml).toContain(`<interface type='network'>\n      <source network='default'/>\n      <model type='virtio'/>`);
    expect(xml).toContain(`<serial type='pty'>`);
    for (const ch of ['org.qemu.guest_agent.0', 'org.qemu.guest_agent.1']) {
      expect(xml).toContain(`<channel type='unix'>\n      <source mode='bind'/>\n      <target type='virtio' name='${ch}'/>`);
    }
  });

  it('says the boot disk size (8 GiB, the guide\'s) where libvirt has no field for it', () => {
    expect(domainXml(base)).toContain(`<!-- boot disk: give it 8 GiB before the first boot (qemu-img resize DISK 8G); growpart fills it -->\n    <disk type='file' device='disk'>`);
  });

  it('supports no-KVM hosts, i440fx, bridges and a console file', () => {
    const xml = domainXml({ ...base, domainType: 'qemu', machine: 'pc', network: { type: 'bridge', source: 'br0' }, consoleLog: '/tmp/c.log', mac: '52:54:00:AA:bb:01' });
    expect(xml).toContain(`<domain type='qemu'>`);
    expect(xml).not.toContain('host-passthrough');
    expect(xml).toContain(`<target dev='hdc' bus='ide'/>`);
    expect(xml).toContain(`<source bridge='br0'/>`);
    expect(xml).toContain(`<mac address='52:54:00:aa:bb:01'/>`);
    expect(xml).toContain(`<serial type='file'>\n      <source path='/tmp/c.log'/>`);
  });

  it('omits the CD-ROM and NIC when asked', () => {
    const xml = domainXml({ name: 'a', disk: '/d.qcow2', network: { type: 'none' } });
    expect(xml).not.toContain('cdrom');
    expect(xml).not.toContain('<interface');
  });

  it('escapes every value', () => {
    const xml = domainXml({ ...base, name: `a&b<c>'"d`, disk: `/x/&'<>.qcow2` });
    expect(xml).toContain(`<name>a&amp;b&lt;c&gt;&apos;&quot;d</name>`);
    expect(xml).toContain(`<source file='/x/&amp;&apos;&lt;&gt;.qcow2'/>`);
    expect(xmlEscape(`<&>"'`)).toBe('&lt;&amp;&gt;&quot;&apos;');
  });

  it.each([
    ['a/b', '"/"'],
    ['a\nb', 'control'],
    ['', 'empty'],
    [' x', 'blanks'],
    ['-x', '"-"'],
    ['x'.repeat(65), '64'],
  ])('refuses the name %j, naming the flag', (name, why) => {
    try {
      domainXml({ ...base, name });
      expect.unreachable();
    } catch (e) {
      expect(isQksError(e, 'CONFIG_INVALID')).toBe(true);
      expect((e as Error).message).toContain('--vm-name');
      expect((e as Error).message).toContain(why);
    }
  });

  it('refuses relative paths', () => {
    expect(() => domainXml({ ...base, disk: 'disk.qcow2' })).toThrow(/--disk: must be an absolute path/);
  });
});

describe('parseNetwork', () => {
  it('reads virt-install forms', () => {
    expect(parseNetwork('network=default')).toEqual({ type: 'network', source: 'default' });
    expect(parseNetwork('bridge=br0')).toEqual({ type: 'bridge', source: 'br0' });
    expect(parseNetwork('none')).toEqual({ type: 'none' });
    expect(() => parseNetwork('user')).toThrow(/expected network=NAME/);
  });
});
