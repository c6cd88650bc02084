// The shell scripts user-data writes into the guest (OpenRC services, the Kubesolo installer), checked
// by a real POSIX shell: they parse, and the installer's decisions hold on a real kernel's files.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, statSync, writeFileSync } from 'node:fs';
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
});
