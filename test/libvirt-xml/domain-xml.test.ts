// domain-xml against libvirt's own schema (virt-xml-validate) and virt-install --print-xml as a peer.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { domainXml, type DomainSpecInput } from '../../src/libvirt/domain-xml.js';
import { virtInstallArgs } from '../../src/libvirt/virt-install.js';
import { runCli } from '../helpers/cli.js';
import { ensureLibvirtd, missingLibvirtd } from '../helpers/libvirtd.js';
import { describeWithPeers } from '../helpers/peers.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'qks-dx-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function validate(xml: string): { ok: boolean; out: string } {
  const f = join(dir, `d-${Math.random().toString(36).slice(2)}.xml`);
  writeFileSync(f, xml);
  const r = spawnSync('virt-xml-validate', [f, 'domain'], { encoding: 'utf8' });
  return { ok: r.status === 0, out: `${r.stdout}${r.stderr}` };
}

const variants: [string, DomainSpecInput][] = [
  ['defaults', { name: 'kubesolo', disk: '/var/lib/libvirt/images/kubesolo.qcow2', iso: '/var/lib/libvirt/images/cidata.iso' }],
  ['no-KVM, i440fx, bridge, MAC', { name: 'k2', disk: '/d.qcow2', iso: '/c.iso', domainType: 'qemu', machine: 'pc', network: { type: 'bridge', source: 'br0' }, mac: '52:54:00:00:00:01' }],
  ['direct kernel boot, console file, no NIC', { name: 'k3', disk: '/d.raw', diskFormat: 'raw', kernel: '/k', initrd: '/i', cmdline: `console=ttyS0 a='b' & <c>`, consoleLog: '/c.log', network: { type: 'none' } }],
  ['hostile but allowed name', { name: `a&b<c>'"d é`, disk: `/x/&'"<>.qcow2` }],
];

describeWithPeers('domain-xml against virt-xml-validate', ['virt-xml-validate', 'xmllint'], () => {
  it.each(variants)('%s validates', (_, spec) => {
    const r = validate(domainXml(spec));
    expect(r.out).toMatch(/validates/);
    expect(r.ok).toBe(true);
  });

  it('the validator is not a rubber stamp: a broken channel or disk fails', () => {
    const xml = domainXml(variants[0]![1]);
    expect(validate(xml.replace(`<channel type='unix'>`, `<channel type='tube'>`)).ok).toBe(false);
    expect(validate(xml.replace(`<readonly/>`, `<readonly>yes</readonly>`)).ok).toBe(false);
  });

  it('the CLI writes the same XML, atomically, with flags resolved', async () => {
    const out = join(dir, 'cli.xml');
    const r = await runCli(['domain-xml', '--name', 'kubesolo', '--disk', '/var/lib/libvirt/images/kubesolo.qcow2', '--iso', '/var/lib/libvirt/images/cidata.iso', '--output', out]);
    expect(r.code).toBe(0);
    expect(readFileSync(out, 'utf8')).toBe(domainXml(variants[0]![1]));
    expect(validate(readFileSync(out, 'utf8')).ok).toBe(true);
  });

  it('the CLI refuses a hostile name with exit 2 and names the flag', async () => {
    const r = await runCli(['domain-xml', '--name', '../etc/x', '--disk', '/d.qcow2']); // --name: virt-install's spelling, an alias
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--vm-name \(VM_NAME, VM_HOSTNAME\): must not contain "\/"/);
    const j = await runCli(['--json', 'domain-xml', '--disk', 'rel.qcow2', '--memory', 'lots']);
    expect(j.code).toBe(2);
    expect(j.json[0]).toMatchObject({ ok: false, error: { code: 'CONFIG_INVALID', message: expect.stringMatching(/^--memory: /) } });
  });

  it('takes the name from VM_NAME; --json carries the XML', async () => {
    const r = await runCli(['--json', 'domain-xml', '--disk', '/d.qcow2', '--domain-type', 'qemu'], { env: { VM_NAME: 'from-env' } });
    expect(r.code).toBe(0);
    const xml = (r.json[0] as { xml: string }).xml;
    expect(xml).toContain('<name>from-env</name>');
    expect(validate(xml).ok).toBe(true);
  });

  it('virt-install-args prints the channels and the ISO', async () => {
    const r = await runCli(['--json', 'virt-install-args', '--name', 'kubesolo', '--disk', '/d.qcow2', '--iso', '/c.iso']);
    expect(r.code).toBe(0);
    const args = (r.json[0] as { args: string[] }).args;
    expect(args.join(' ')).toContain('--channel unix,target_type=virtio,name=org.qemu.guest_agent.1');
    expect(args.join(' ')).toContain('--disk path=/c.iso,device=cdrom');
    const text = await runCli(['virt-install-args', '--name', 'kubesolo']);
    expect(text.stdout).toMatch(/^virt-install \\\n {2}--name kubesolo \\\n/);
  });
});

/** The channels, disks and NIC of a domain XML, in a form both writers can be compared in. */
function facts(xml: string) {
  const attr = (tag: string, a: string) => [...xml.matchAll(new RegExp(`<${tag}\\b[^>]*\\b${a}=["']([^"']*)["']`, 'g'))].map((m) => m[1]);
  return {
    name: /<name>([^<]*)<\/name>/.exec(xml)?.[1],
    memoryKiB: (() => {
      const m = /<memory(?: unit=["'](\w+)["'])?>(\d+)<\/memory>/.exec(xml)!;
      return Number(m[2]) * (m[1] === 'MiB' ? 1024 : 1);
    })(),
    vcpus: Number(/<vcpu[^>]*>(\d+)<\/vcpu>/.exec(xml)?.[1]),
    agentChannels: [...xml.matchAll(/<channel type=["']unix["']>\s*<source mode=["']bind["']\/>\s*<target type=["']virtio["'] name=["'](org\.qemu\.guest_agent\.\d)["']\/>/g)].map((m) => m[1]),
    cdrom: /<disk type=["']file["'] device=["']cdrom["']>[\s\S]*?<source file=["']([^"']*)["']\/>[\s\S]*?<readonly\/>[\s\S]*?<\/disk>/.exec(xml)?.[1],
    network: attr('source', 'network'),
  };
}

describeWithPeers(
  'domain-xml beside virt-install --print-xml',
  ['virt-install', 'virt-xml-validate', 'qemu-img'],
  () => {
    // virt-install asks libvirtd for the host's capabilities, even for --print-xml
    beforeAll(async () => {
      await ensureLibvirtd();
    }, 120_000);

    it('agrees on name, memory, vCPUs, both agent channels, the read-only CD-ROM and the network', () => {
      const disk = join(dir, 'boot.qcow2');
      const iso = join(dir, 'cidata.iso');
      spawnSync('qemu-img', ['create', '-q', '-f', 'qcow2', disk, '64M']);
      writeFileSync(iso, Buffer.alloc(2048 * 20));
      const args = [...virtInstallArgs({ name: 'kubesolo', diskPath: disk, isoPath: iso }), '--print-xml', '--virt-type', 'qemu', '--arch', 'x86_64', '--machine', 'q35'];
      const r = spawnSync('virt-install', ['--connect', 'qemu:///system', ...args], { encoding: 'utf8', timeout: 60_000 });
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      const theirs = facts(r.stdout);
      const ours = facts(domainXml({ name: 'kubesolo', disk, iso, domainType: 'qemu' }));
      expect(ours).toEqual(theirs);
      expect(ours.agentChannels).toEqual(['org.qemu.guest_agent.0', 'org.qemu.guest_agent.1']);
      expect(validate(r.stdout).ok).toBe(true);
    });
  },
  missingLibvirtd,
);
