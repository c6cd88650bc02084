// The generated documents against cloud-init itself (Debian's 22.4: `cloud-init schema` and
// `cloud-init devel net-convert` with Alpine's eni renderer), and the ISO against isoinfo.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { resolveArtifactsConfig } from '../../src/cloudinit/config.js';
import { generateArtifacts, renderDocuments } from '../../src/cloudinit/artifacts.js';
import { loadTemplateDir } from '../../src/cloudinit/templates.js';
import { describeWithPeers } from '../helpers/peers.js';
import { FIXED, VARIANTS } from './variants.js';
import { ROOT } from './embed.js';

const OPTS = { env: {}, home: '/nonexistent', hostArch: 'x64' };
const tmp = () => mkdtempSync(join(tmpdir(), 'qks-ci-'));

function schema(userData: string): { code: number | null; out: string } {
  const dir = tmp();
  writeFileSync(join(dir, 'user-data'), userData);
  const r = spawnSync('cloud-init', ['schema', '--config-file', join(dir, 'user-data')], { encoding: 'utf8' });
  return { code: r.status, out: r.stdout + r.stderr };
}

describeWithPeers('cloud-init schema (22.4) accepts every variant', ['cloud-init'], () => {
  it('notices a bad document (the check is real)', () => {
    const r = schema('#cloud-config\nusers:\n  - name: x\n    doas: ["permit x"]\n');
    expect(r.code).not.toBe(0);
    expect(r.out).toMatch(/schema errors/i);
  });

  for (const [name, flags] of Object.entries(VARIANTS)) {
    it(`${name}`, async () => {
      const docs = renderDocuments(await resolveArtifactsConfig(flags, OPTS), FIXED);
      const r = schema(docs.docs.find((d) => d.name === 'user-data')!.data);
      expect(r.out).toContain('Valid cloud-config');
      expect(r.code).toBe(0);
    });
  }

  it('the shipped templates/ directory, rendered, with and without auto-install', async () => {
    const templates = await loadTemplateDir(join(ROOT, 'templates'));
    expect(templates.userData.name).toBe(join(ROOT, 'templates', 'user-data.template'));
    for (const flags of [VARIANTS.default!, VARIANTS['auto-install']!]) {
      const docs = renderDocuments(await resolveArtifactsConfig(flags, OPTS), { ...FIXED, templates });
      const r = schema(docs.docs[0]!.data);
      expect(r.code, r.out).toBe(0);
    }
  });
});

describeWithPeers("cloud-init's Alpine (eni) renderer configures eth0 from network-config", ['cloud-init'], () => {
  for (const [variant, want] of [
    ['static-network', ['iface eth0 inet static', 'address 192.168.122.50/24', 'default gw 192.168.122.1', 'dns-nameservers 192.168.122.1 1.1.1.1']],
    ['static-ipv6', ['iface eth0 inet6 static', 'address fd00:122::50/64', 'fd00:122::1']],
  ] as const) {
    it(variant, async () => {
      const docs = renderDocuments(await resolveArtifactsConfig(VARIANTS[variant]!, OPTS), FIXED);
      const nc = docs.docs.find((d) => d.name === 'network-config')!.data;
      expect(nc).not.toMatch(/to: "?default/);
      const dir = tmp();
      writeFileSync(join(dir, 'network-config'), nc);
      execFileSync('cloud-init', ['devel', 'net-convert', '-p', join(dir, 'network-config'), '-k', 'yaml', '-D', 'alpine', '-O', 'eni', '-d', join(dir, 'out')], { stdio: 'pipe' });
      const eni = readdirSync(join(dir, 'out'), { recursive: true, withFileTypes: true })
        .filter((e) => e.isFile())
        .map((e) => readFileSync(join(e.parentPath, e.name), 'utf8'))
        .join('\n');
      for (const w of want) expect(eni).toContain(w);
      expect(eni).toContain('auto eth0');
      expect(eni).not.toContain('id0');
    });
  }

  it('no network-config without --ip (DHCP)', async () => {
    const docs = renderDocuments(await resolveArtifactsConfig(VARIANTS.default!, OPTS), FIXED);
    expect(docs.docs.map((d) => d.name)).toEqual(['user-data', 'meta-data']);
  });
});

describeWithPeers('cidata.iso holds the same documents (isoinfo)', ['isoinfo'], () => {
  it('volume id cidata; user-data, meta-data, network-config readable by Joliet and Rock Ridge names', async () => {
    const out = tmp();
    const config = await resolveArtifactsConfig({ ...VARIANTS['static-network']!, outputDir: out, createIso: true }, OPTS);
    const r = await generateArtifacts(config, FIXED);
    expect(r.iso).toBe(join(out, 'cidata.iso'));
    const pvd = execFileSync('isoinfo', ['-d', '-i', r.iso!], { encoding: 'utf8' });
    expect(pvd).toMatch(/Volume id: cidata/);
    for (const name of ['user-data', 'meta-data', 'network-config']) {
      const viaJoliet = execFileSync('isoinfo', ['-J', '-i', r.iso!, '-x', `/${name}`]);
      const viaRr = execFileSync('isoinfo', ['-R', '-i', r.iso!, '-x', `/${name}`]);
      const file = readFileSync(join(out, name));
      expect(viaJoliet.equals(file), name).toBe(true);
      expect(viaRr.equals(file), name).toBe(true);
    }
  });
});
