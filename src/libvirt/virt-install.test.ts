import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { describeWithPeers } from '../../test/helpers/peers.js';
import { bootDiskResizeArgs, formatBootDiskResize, formatVirtInstall, virtInstallArgs } from './virt-install.js';

describe('the boot disk size (the guide\'s 8 GB)', () => {
  it('is a qemu-img resize to 8G before the first boot, quoted for the shell', () => {
    expect(bootDiskResizeArgs()).toEqual(['resize', '/path/to/boot.qcow2', '8G']);
    expect(formatBootDiskResize(bootDiskResizeArgs("/var/lib/a b's.qcow2", 20))).toMatch(/\nqemu-img resize '\/var\/lib\/a b'\\''s\.qcow2' 20G$/);
  });
});

describe('virtInstallArgs', () => {
  it("follows the guide's example, with both agent channels", () => {
    const args = virtInstallArgs({ name: 'kubesolo', userData: './artifacts/user-data', metaData: './artifacts/meta-data' });
    expect(formatVirtInstall(args)).toBe(
      [
        'virt-install',
        '  --name kubesolo',
        '  --memory 512',
        '  --vcpus 2',
        '  --disk path=/path/to/boot.qcow2',
        '  --cloud-init user-data=./artifacts/user-data,meta-data=./artifacts/meta-data',
        '  --network network=default',
        '  --channel unix,target_type=virtio,name=org.qemu.guest_agent.0',
        '  --channel unix,target_type=virtio,name=org.qemu.guest_agent.1',
        '  --os-variant detect=on,require=off',
        '  --import',
        '  --noautoconsole',
      ].join(' \\\n'),
    );
  });

  it('attaches the ISO as a CD-ROM instead of --cloud-init, and adds network-config', () => {
    expect(virtInstallArgs({ name: 'a', isoPath: '/x/cidata.iso', userData: '/x/user-data' })).toEqual(expect.arrayContaining(['--disk', 'path=/x/cidata.iso,device=cdrom']));
    expect(virtInstallArgs({ name: 'a', isoPath: '/x/cidata.iso' })).not.toContain('--cloud-init');
    expect(virtInstallArgs({ name: 'a', userData: 'u', metaData: 'm', networkConfig: 'n' })).toContain('user-data=u,meta-data=m,network-config=n');
  });
});

const unescapeXml = (s: string) => s.replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&amp;/g, '&');

describeWithPeers('virt-install accepts the arguments (--print-xml on the test driver)', ['virt-install'], () => {
  it('makes a domain with the ISO CD-ROM and both channels', () => {
    const dir = mkdtempSync(join(tmpdir(), 'qks-vi-'));
    writeFileSync(join(dir, 'boot.qcow2'), '');
    writeFileSync(join(dir, 'cidata.iso'), '');
    const args = virtInstallArgs({ name: 'kubesolo', diskPath: join(dir, 'boot.qcow2'), isoPath: join(dir, 'cidata.iso') });
    const xml = execFileSync('virt-install', ['--connect', 'test:///default', '--print-xml', ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    expect(xml).toContain('<name>kubesolo</name>');
    expect(xml).toContain('<memory>524288</memory>');
    expect(xml).toMatch(/<disk type="file" device="cdrom">\s*<source file="[^"]*cidata\.iso"\/>/);
    expect(xml).toContain('<target type="virtio" name="org.qemu.guest_agent.0"/>');
    expect(xml).toContain('<target type="virtio" name="org.qemu.guest_agent.1"/>');
  });

  it('keeps a path with a comma, quotes, a backslash or a space whole (virt-install splits sub-options at ",")', () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'qks-vi-')), `a,b c'd"e\\f`);
    mkdirSync(dir);
    writeFileSync(join(dir, 'boot.qcow2'), '');
    writeFileSync(join(dir, 'cidata.iso'), '');
    const args = virtInstallArgs({ name: 'kubesolo', diskPath: join(dir, 'boot.qcow2'), isoPath: join(dir, 'cidata.iso') });
    const xml = execFileSync('virt-install', ['--connect', 'test:///default', '--print-xml', ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    const sources = [...xml.matchAll(/<source file="([^"]*)"\/>/g)].map((m) => unescapeXml(unescapeXml(m[1]!))); // --print-xml escapes quotes twice
    expect(sources).toEqual([join(dir, 'boot.qcow2'), join(dir, 'cidata.iso')]);
    expect(xml).toMatch(/<disk type="file" device="cdrom">/);
  });
});
