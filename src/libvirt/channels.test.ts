import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DEDICATED_CHANNEL, STANDARD_CHANNEL } from './channel-names.js';
import { discoverChannelSockets, matchesShortName, parseStatusXml, shortName } from './channels.js';

const roots: string[] = [];
/** A fake root with the given files (sockets are plain files here: discovery only looks). */
function tree(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'qks-channels-'));
  roots.push(root);
  for (const [p, content] of Object.entries(files)) {
    mkdirSync(dirname(join(root, p)), { recursive: true });
    writeFileSync(join(root, p), content);
  }
  return root;
}
afterEach(() => {
  for (const r of roots.splice(0)) rmSync(r, { recursive: true, force: true });
});
const rel = (root: string, paths: { path: string }[]) => paths.map((p) => p.path.slice(root.length));

const STATUS_XML = `<domstatus state='running' reason='booted' pid='1234'>
  <domain type='kvm' id='7'>
    <name>kubesolo</name>
    <devices>
      <channel type='unix'>
        <source mode='bind' path='/var/lib/libvirt/qemu/channel/target/domain-7-kubesolo/org.qemu.guest_agent.0'/>
        <target type='virtio' name='org.qemu.guest_agent.0' state='connected'/>
      </channel>
      <channel type='unix'>
        <source mode="bind" path="/var/lib/libvirt/qemu/channel/target/domain-7-kubesolo/org.qemu.guest_agent.1"/>
        <target type="virtio" name="org.qemu.guest_agent.1"/>
      </channel>
      <channel type='spicevmc'><target type='virtio' name='com.redhat.spice.0'/></channel>
    </devices>
  </domain>
</domstatus>`;

describe('libvirt channel socket discovery', () => {
  it('reads the exact paths from the live status XML', async () => {
    const root = tree({
      '/run/libvirt/qemu/kubesolo.xml': STATUS_XML,
      '/var/lib/libvirt/qemu/channel/target/domain-7-kubesolo/org.qemu.guest_agent.0': '',
      '/var/lib/libvirt/qemu/channel/target/domain-7-kubesolo/org.qemu.guest_agent.1': '',
    });
    const d = await discoverChannelSockets('kubesolo', { root });
    expect(rel(root, d.sockets)).toEqual([
      '/var/lib/libvirt/qemu/channel/target/domain-7-kubesolo/org.qemu.guest_agent.1',
      '/var/lib/libvirt/qemu/channel/target/domain-7-kubesolo/org.qemu.guest_agent.0',
    ]);
    expect(d.sockets[0]).toMatchObject({ channel: DEDICATED_CHANNEL, source: 'status-xml', domainId: 7 });
  });

  it('finds the current layout /run/libvirt/qemu/channel/<id>-<short>/, newest id first', async () => {
    const root = tree({
      '/run/libvirt/qemu/channel/3-kubesolo/org.qemu.guest_agent.0': '',
      '/run/libvirt/qemu/channel/12-kubesolo/org.qemu.guest_agent.0': '',
      '/run/libvirt/qemu/channel/12-kubesolo/org.qemu.guest_agent.1': '',
      '/run/libvirt/qemu/channel/4-kubesolo-2/org.qemu.guest_agent.1': '',
    });
    const d = await discoverChannelSockets('kubesolo', { root });
    expect(rel(root, d.sockets)).toEqual([
      '/run/libvirt/qemu/channel/12-kubesolo/org.qemu.guest_agent.1',
      '/run/libvirt/qemu/channel/12-kubesolo/org.qemu.guest_agent.0',
      '/run/libvirt/qemu/channel/3-kubesolo/org.qemu.guest_agent.0',
    ]);
    expect(d.sockets.map((s) => s.source)).toEqual(['state-dir', 'state-dir', 'state-dir']);
  });

  it("finds Debian 12's layout domain-<id>-<short>/ (libvirt 9.0)", async () => {
    const root = tree({ '/var/lib/libvirt/qemu/channel/target/domain-1-kubesolo/org.qemu.guest_agent.0': '' });
    const d = await discoverChannelSockets('kubesolo', { root });
    expect(d.sockets).toEqual([{ path: join(root, '/var/lib/libvirt/qemu/channel/target/domain-1-kubesolo/org.qemu.guest_agent.0'), channel: STANDARD_CHANNEL, source: 'lib-dir-id', domainId: 1 }]);
  });

  it("finds the guide's layout domain-<name>/ and the old flat <name>.<channel> files", async () => {
    const root = tree({
      '/var/lib/libvirt/qemu/channel/target/domain-kubesolo/org.qemu.guest_agent.0': '',
      '/var/lib/libvirt/qemu/channel/target/kubesolo.org.qemu.guest_agent.1': '',
    });
    const d = await discoverChannelSockets('kubesolo', { root });
    expect(d.sockets.map((s) => [s.channel, s.source])).toEqual([
      [DEDICATED_CHANNEL, 'lib-flat'],
      [STANDARD_CHANNEL, 'lib-dir-name'],
    ]);
  });

  it('matches names longer than 20 characters by their libvirt short name', async () => {
    const long = 'kubesolo-production-cluster-01';
    expect(shortName(long)).toBe('kubesolo-production-');
    expect(matchesShortName('kubesolo-production-', long)).toBe(true);
    expect(matchesShortName('kubesolo-prod', long)).toBe(false);
    // a non-ASCII name under libvirtd's C locale is cut to 20 bytes, possibly inside a character
    expect(matchesShortName('kubesolo-prøduction', 'kubesolo-prøduction-x-1')).toBe(true);
    expect(matchesShortName('kubesolo-prøduction-', 'kubesolo-prøduction-x-1')).toBe(true);
    expect(matchesShortName('kubesolo-productio-', 'kubesolo-productio-ø-x')).toBe(false);
    const cRoot = tree({ '/var/lib/libvirt/qemu/channel/target/domain-4-kubesolo-prøduction/org.qemu.guest_agent.1': '' });
    const c = await discoverChannelSockets('kubesolo-prøduction-x-1', { root: cRoot });
    expect(rel(cRoot, c.sockets)).toEqual(['/var/lib/libvirt/qemu/channel/target/domain-4-kubesolo-prøduction/org.qemu.guest_agent.1']);
    const root = tree({ '/run/libvirt/qemu/channel/5-kubesolo-production-/org.qemu.guest_agent.1': '' });
    const d = await discoverChannelSockets(long, { root });
    expect(rel(root, d.sockets)).toEqual(['/run/libvirt/qemu/channel/5-kubesolo-production-/org.qemu.guest_agent.1']);
  });

  it('looks under the user runtime and config directories for qemu:///session', async () => {
    const env = { HOME: '/home/u', XDG_RUNTIME_DIR: '/run/user/1000' };
    const root = tree({
      '/run/user/1000/libvirt/qemu/run/channel/2-kubesolo/org.qemu.guest_agent.1': '',
      '/home/u/.config/libvirt/qemu/lib/channel/target/domain-2-kubesolo/org.qemu.guest_agent.0': '',
    });
    const d = await discoverChannelSockets('kubesolo', { root, mode: 'session', env });
    expect(rel(root, d.sockets)).toEqual([
      '/run/user/1000/libvirt/qemu/run/channel/2-kubesolo/org.qemu.guest_agent.1',
      '/home/u/.config/libvirt/qemu/lib/channel/target/domain-2-kubesolo/org.qemu.guest_agent.0',
    ]);
  });

  it('returns nothing (and where it looked) when the VM has no channel', async () => {
    const root = tree({ '/run/libvirt/qemu/channel/1-other/org.qemu.guest_agent.0': '' });
    const d = await discoverChannelSockets('kubesolo', { root });
    expect(d.sockets).toEqual([]);
    expect(d.searched).toContain(join(root, '/var/lib/libvirt/qemu/channel/target/domain-kubesolo/org.qemu.guest_agent.0'));
    expect(d.denied).toEqual([]);
  });

  it('parses status XML channels with either quote style and entities', () => {
    expect(parseStatusXml(STATUS_XML)).toEqual({
      id: 7,
      channels: [
        { name: 'org.qemu.guest_agent.0', path: '/var/lib/libvirt/qemu/channel/target/domain-7-kubesolo/org.qemu.guest_agent.0' },
        { name: 'org.qemu.guest_agent.1', path: '/var/lib/libvirt/qemu/channel/target/domain-7-kubesolo/org.qemu.guest_agent.1' },
      ],
    });
    expect(parseStatusXml(`<domain id='1'><channel type='unix'><source path='/a&amp;b'/><target name='x'/></channel></domain>`).channels).toEqual([{ name: 'x', path: '/a&b' }]);
  });
});

describe('rankChannelSockets (the one ranking, local and remote listers)', () => {
  it('ranks by channel, then status XML, newest layout (live id first), name-only and flat layouts; no duplicates', async () => {
    const { channelLayout, rankChannelSockets } = await import('./channels.js');
    const l = channelLayout({ root: '/r', env: {} });
    const entries = new Map([
      ['/r/run/libvirt/qemu/channel', ['3-kubesolo', '7-kubesolo', '9-other']],
      ['/r/var/lib/libvirt/qemu/channel/target', ['domain-7-kubesolo']],
    ]);
    const statusXml = STATUS_XML.replace(/domain-7-kubesolo/g, 'domain-3-kubesolo').replace("id='7'", "id='3'");
    const ranked = rankChannelSockets(l, 'kubesolo', { statusXml, entries }).map((c) => `${c.channel.slice(-1)} ${c.source} ${c.path.slice(3)}`);
    expect(ranked.slice(0, 6)).toEqual([
      '1 status-xml var/lib/libvirt/qemu/channel/target/domain-3-kubesolo/org.qemu.guest_agent.1',
      '1 state-dir run/libvirt/qemu/channel/3-kubesolo/org.qemu.guest_agent.1',
      '1 state-dir run/libvirt/qemu/channel/7-kubesolo/org.qemu.guest_agent.1',
      '1 lib-dir-id var/lib/libvirt/qemu/channel/target/domain-7-kubesolo/org.qemu.guest_agent.1',
      '1 lib-dir-name var/lib/libvirt/qemu/channel/target/domain-kubesolo/org.qemu.guest_agent.1',
      '1 lib-flat var/lib/libvirt/qemu/channel/target/kubesolo.org.qemu.guest_agent.1',
    ]);
    expect(ranked[6]).toMatch(/^0 status-xml/);
    expect(new Set(ranked).size).toBe(ranked.length);
  });
});
