// What the seed must say for Alpine's cloud-init and OpenRC (issue 15's seven defects), read from the
// rendered user-data as cloud-init will read it. The Alpine-shaped VM tier (test/vm/alpine*) shows
// the same on a booted guest.
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { resolveArtifactsConfig, type ArtifactsFlags } from '../../src/cloudinit/config.js';
import { renderDocuments, seedWarnings } from '../../src/cloudinit/artifacts.js';
import { FIXED, VARIANTS } from './variants.js';

const OPTS = { env: {}, home: '/nonexistent', hostArch: 'x64' };

interface UserData {
  manage_etc_hosts?: unknown;
  manage_resolv_conf?: unknown;
  resolv_conf?: { nameservers?: string[] };
  users: Array<Record<string, unknown>>;
  packages: string[];
  write_files: Array<{ path: string; content: string; permissions?: string }>;
  runcmd: string[];
}

async function userData(flags: ArtifactsFlags): Promise<UserData> {
  const docs = renderDocuments(await resolveArtifactsConfig(flags, OPTS), FIXED);
  return parse(docs.docs.find((d) => d.name === 'user-data')!.data) as UserData;
}

describe('the seed on Alpine', () => {
  it('1: with --dns, resolv_conf writes /etc/resolv.conf (ifupdown-ng ignores dns-nameservers); with DHCP it is left to udhcpc', async () => {
    const ud = await userData(VARIANTS['static-network']!);
    expect(ud.manage_resolv_conf).toBe(true);
    expect(ud.resolv_conf).toEqual({ nameservers: ['192.168.122.1', '1.1.1.1'] });
    const dhcp = await userData(VARIANTS.default!);
    expect(dhcp).not.toHaveProperty('manage_resolv_conf');
    expect(dhcp).not.toHaveProperty('resolv_conf');
  });

  it('2: manage_etc_hosts puts the hostname into /etc/hosts', async () => {
    expect((await userData(VARIANTS.default!)).manage_etc_hosts).toBe('localhost');
  });

  it('5: the password goes as hashed_passwd (applied to a user the image already has), never passwd', async () => {
    const [user] = (await userData(VARIANTS.default!)).users;
    expect(user).not.toHaveProperty('passwd');
    expect(user!.hashed_passwd).toMatch(/^\$6\$/);
    expect(user!.lock_passwd).toBe(false);
  });

  it('6: sshd is started, not only added to the runlevel', async () => {
    const { runcmd } = await userData(VARIANTS.default!);
    expect(runcmd.indexOf('rc-service sshd start')).toBeGreaterThan(runcmd.indexOf('rc-update add sshd default'));
  });

  it('cgroup-tools is not installed (nothing needs it); one package list for one apk add', async () => {
    const { packages } = await userData(VARIANTS['auto-install']!);
    expect(packages).not.toContain('cgroup-tools');
    expect(packages).toEqual(['openssh', 'qemu-guest-agent', 'doas', 'curl', 'ca-certificates', 'iptables', 'ip6tables', 'nftables']);
  });

  it('air-gapped: --apk-repository writes /etc/apk/repositories, --kubesolo-url is what the installer fetches', async () => {
    const ud = await userData(VARIANTS['air-gapped']!);
    const repos = ud.write_files.find((f) => f.path === '/etc/apk/repositories');
    expect(repos).toMatchObject({ permissions: '0644', content: 'http://192.168.122.1/alpine/v3.22/main\nhttp://192.168.122.1/alpine/v3.22/community\n' });
    const installer = ud.write_files.find((f) => f.path === '/usr/local/sbin/qemu-kubesolo-install')!.content;
    expect(installer).toContain('url="file:///opt/kubesolo/kubesolo-v1.1.7-linux-amd64-musl.tar.gz"');
    expect(installer).not.toContain('github.com');
    // without --apk-repository the image's own repositories file is left alone
    expect((await userData(VARIANTS['auto-install']!)).write_files.map((f) => f.path)).not.toContain('/etc/apk/repositories');
  });

  it('3: the default Kubesolo carries the Alpine fixes; an older one is possible, with a warning', async () => {
    const ud = await userData(VARIANTS['auto-install']!);
    expect(ud.write_files.find((f) => f.path === '/usr/local/sbin/qemu-kubesolo-install')!.content).toContain('/download/v1.1.7/kubesolo-v1.1.7-linux-amd64-musl.tar.gz');
    const old = await resolveArtifactsConfig({ ...VARIANTS['auto-install']!, kubesoloVersion: 'v1.1.0' }, OPTS);
    expect(seedWarnings(old).join('\n')).toMatch(/Kubesolo v1\.1\.0 crashes on Alpine after a reboot \(portainer\/kubesolo #54.*#132/);
    for (const v of ['v1.1.4', 'v1.1.7', 'v1.10.0', 'v2.0.0']) {
      const c = await resolveArtifactsConfig({ ...VARIANTS['auto-install']!, kubesoloVersion: v }, OPTS);
      expect(seedWarnings(c).join('\n'), v).not.toContain('crashes');
    }
    // without --auto-install-kubesolo the version does not matter
    expect(seedWarnings(await resolveArtifactsConfig({ ...VARIANTS.default!, kubesoloVersion: 'v1.1.0' }, OPTS)).join('\n')).not.toContain('crashes');
  });

  it('4: an IPv6-only --ip warns what it means for the node', async () => {
    const w = seedWarnings(await resolveArtifactsConfig(VARIANTS['static-ipv6']!, OPTS)).join('\n');
    expect(w).toMatch(/IPv6 only: Kubesolo picks the node IP among IPv4 addresses only/);
    expect(seedWarnings(await resolveArtifactsConfig(VARIANTS['static-network']!, OPTS)).join('\n')).not.toMatch(/IPv6/);
  });
});

describe('the air-gapped settings in the inventory format', () => {
  it('kubesolo-url and apk-repository (or apk-repositories) per VM, validated like the flags', async () => {
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const { resolveInventory } = await import('../../src/cloudinit/inventory.js');
    const dir = mkdtempSync(join(tmpdir(), 'qks-inv-'));
    const file = join(dir, 'vms.yaml');
    writeFileSync(
      file,
      [
        'vms:',
        '  - hostname: node-01',
        '    auto-install-kubesolo: true',
        '    kubesolo-url: file:///opt/kubesolo.tar.gz',
        '    apk-repository: http://mirror.lan/alpine/v3.22/main',
        '  - hostname: node-02',
        '    apk_repositories: [http://mirror.lan/a/main, http://mirror.lan/a/community]',
      ].join('\n'),
    );
    const [a, b] = await resolveInventory(file, {}, { ...OPTS, env: {} });
    expect(a).toMatchObject({ kubesoloUrl: 'file:///opt/kubesolo.tar.gz', apkRepositories: ['http://mirror.lan/alpine/v3.22/main'] });
    expect(b!.apkRepositories).toEqual(['http://mirror.lan/a/main', 'http://mirror.lan/a/community']);
    writeFileSync(file, 'vms:\n  - hostname: node-03\n    kubesolo-url: ftp://x/k.tar.gz\n    apk-repository: [gopher://x]\n');
    await expect(resolveInventory(file, {}, { ...OPTS, env: {} })).rejects.toThrow(/vms\[0\] \(node-03\)\.kubesolo-url: must be an http.*vms\[0\] \(node-03\)\.apk-repository\[0\]: must be an http/);
  });
});
