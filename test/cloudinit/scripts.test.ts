// The shell scripts user-data writes into the guest (OpenRC services, the Kubesolo installer), checked
// by a real POSIX shell: they parse, and the installer's decisions hold on a real kernel's files.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { parse } from 'yaml';
import { resolveArtifactsConfig } from '../../src/cloudinit/config.js';
import { renderDocuments } from '../../src/cloudinit/artifacts.js';
import { describeWithPeers } from '../helpers/peers.js';
import { FIXED, VARIANTS } from './variants.js';

const OPTS = { env: {}, home: '/nonexistent', hostArch: 'x64' };

async function scripts(): Promise<Map<string, string>> {
  const docs = renderDocuments(await resolveArtifactsConfig(VARIANTS['auto-install']!, OPTS), FIXED);
  const ud = parse(docs.docs.find((d) => d.name === 'user-data')!.data) as { write_files: { path: string; content: string }[] };
  return new Map(ud.write_files.filter((f) => f.content.startsWith('#!')).map((f) => [f.path, f.content]));
}

describeWithPeers('shell scripts in user-data', ['dash'], () => {
  it('every script parses (dash -n), the installer and both OpenRC services included', async () => {
    const all = await scripts();
    expect([...all.keys()].sort()).toEqual(['/etc/init.d/kubesolo', '/etc/init.d/qemu-guest-agent-kubesolo', '/usr/local/sbin/qemu-kubesolo-install']);
    for (const [path, body] of all) {
      const r = spawnSync('dash', ['-n'], { input: body, encoding: 'utf8' });
      expect(r.status, `${path}: ${r.stderr}`).toBe(0);
    }
  });

  it('the installer starts the cgroups service only when cgroup.controllers lists nothing', async () => {
    const installer = (await scripts()).get('/usr/local/sbin/qemu-kubesolo-install')!;
    const line = installer.split('\n').find((l) => l.includes('/sys/fs/cgroup/cgroup.controllers') && l.includes('rc-service cgroups start'));
    expect(line, 'the cgroups check').toBeDefined();
    // Kernel pseudo-files report size 0 whatever they hold, as cgroupfs does: /proc/version holds text.
    expect(statSync('/proc/version').size).toBe(0);
    const dir = mkdtempSync(join(tmpdir(), 'qks-sh-'));
    writeFileSync(join(dir, 'empty'), '');
    const decide = (file: string) => {
      const probe = line!.replace('/sys/fs/cgroup/cgroup.controllers', file).replace('rc-service cgroups start', 'echo START');
      return spawnSync('dash', ['-c', probe], { encoding: 'utf8' }).stdout.trim();
    };
    expect(decide('/proc/version')).toBe('');
    expect(decide(join(dir, 'empty'))).toBe('START');
    expect(decide(join(dir, 'missing'))).toBe('START');
  });

  it('the dedicated agent finds its port through /sys/class/virtio-ports/*/name when /dev/virtio-ports/<name> is missing', async () => {
    const script = (await scripts()).get('/etc/init.d/qemu-guest-agent-kubesolo')!;
    const fn = /^find_port\(\) \{\n[\s\S]*?\n\}$/m.exec(script)?.[0];
    expect(fn, 'find_port()').toBeDefined();
    const root = mkdtempSync(join(tmpdir(), 'qks-vport-'));
    const inRoot = fn!.replaceAll('/dev/', `${root}/dev/`).replaceAll('/sys/class/', `${root}/sys/class/`);
    const find = () => spawnSync('dash', ['-c', `port_name=org.qemu.guest_agent.1\n${inRoot}\nfind_port`], { encoding: 'utf8' });
    // an mdev image without the link rule: only the kernel's nodes and sysfs names
    for (const [dev, name] of [['vport1p1', 'org.qemu.guest_agent.0'], ['vport1p2', 'org.qemu.guest_agent.1']] as const) {
      mkdirSync(join(root, 'sys/class/virtio-ports', dev), { recursive: true });
      writeFileSync(join(root, 'sys/class/virtio-ports', dev, 'name'), `${name}\n`);
    }
    mkdirSync(join(root, 'dev'), { recursive: true });
    expect(find().status, 'no device node yet').toBe(1);
    writeFileSync(join(root, 'dev/vport1p1'), '');
    writeFileSync(join(root, 'dev/vport1p2'), '');
    expect(find()).toMatchObject({ status: 0, stdout: `${root}/dev/vport1p2\n` });
    // with the link (udev, Alpine 3.20's mdev rules) the link is used
    mkdirSync(join(root, 'dev/virtio-ports'));
    symlinkSync('../vport1p2', join(root, 'dev/virtio-ports/org.qemu.guest_agent.1'));
    expect(find()).toMatchObject({ status: 0, stdout: `${root}/dev/virtio-ports/org.qemu.guest_agent.1\n` });
  });

  it('the kubesolo service is supervised (respawn) with a 65535 file limit and needs net and cgroups', async () => {
    const svc = (await scripts()).get('/etc/init.d/kubesolo')!;
    const lines = svc.split('\n').map((l) => l.trim());
    expect(lines).toEqual(expect.arrayContaining(['supervisor=supervise-daemon', 'respawn_max=0', 'rc_ulimit="-n 65535"', 'need net cgroups']));
    // supervise-daemon keeps its own pidfile and does not take command_background
    expect(svc).not.toMatch(/command_background|pidfile=/);
    const r = spawnSync('dash', ['-c', `${svc.replace(/^#!.*\n/, '')}\necho "$rc_ulimit|$respawn_delay"`], { encoding: 'utf8' });
    expect(r.stdout.trim()).toBe('-n 65535|5');
  });
});
