// The harness itself: the guest boots, reports the ISO's files, both agents answer, the kubeconfig appears.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeWithPeers } from '../../helpers/peers.js';
import { buildTestInitramfsInfo, moduleLoadOrder } from './initramfs.js';
import { bootTestVm, missingVmPeers, parseGuestFiles, type TestVm } from './qemu.js';

/** One guest-sync-delimited + one command over a fresh connection; the reply's `return`. */
export function agentCommand(socket: string, execute: string, args?: unknown, timeoutMs = 10_000): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const id = Math.floor(Math.random() * 1e9);
    const s = connect(socket);
    let buf = '';
    let synced = false;
    const timer = setTimeout(() => {
      s.destroy();
      reject(new Error(`no answer to ${execute} on ${socket} within ${timeoutMs} ms`));
    }, timeoutMs);
    s.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    s.on('connect', () => s.write(Buffer.concat([Buffer.from([0xff]), Buffer.from(JSON.stringify({ execute: 'guest-sync-delimited', arguments: { id } }) + '\n')])));
    s.on('data', (d) => {
      buf += d.toString('latin1');
      for (;;) {
        const nl = buf.indexOf('\n');
        if (nl < 0) return;
        const line = buf.slice(0, nl).replace(/^[\s\xff]+/, '');
        buf = buf.slice(nl + 1);
        let msg: { return?: unknown; error?: unknown };
        try {
          msg = JSON.parse(line);
        } catch {
          continue;
        }
        if (!synced) {
          if (msg.return === id) {
            synced = true;
            s.write(JSON.stringify({ execute, ...(args ? { arguments: args } : {}) }) + '\n');
          }
          continue;
        }
        clearTimeout(timer);
        s.end();
        if (msg.error) reject(new Error(JSON.stringify(msg.error)));
        else resolve(msg.return);
        return;
      }
    });
  });
}

it('orders modules after their dependencies', () => {
  const dep = 'kernel/a/sr_mod.ko: kernel/b/cdrom.ko kernel/c/scsi_mod.ko\nkernel/b/cdrom.ko:\nkernel/c/scsi_mod.ko: kernel/d/scsi_common.ko\nkernel/d/scsi_common.ko:\n';
  expect(moduleLoadOrder(dep, ['sr_mod', 'cdrom', 'missing'])).toEqual(['kernel/b/cdrom.ko', 'kernel/d/scsi_common.ko', 'kernel/c/scsi_mod.ko', 'kernel/a/sr_mod.ko']);
});

describeWithPeers('test VM harness', ['qemu-system-x86_64', 'genisoimage'], () => {
  let dir: string;
  let vm: TestVm | undefined;
  const userData = '#cloud-config\nhostname: harness\n';
  const metaData = 'instance-id: harness-1\n';

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'qks-h-'));
    const info = await buildTestInitramfsInfo();
    console.log(`initramfs ${info.path}: ${info.bytes} bytes, ${info.built ? 'built' : 'cached'} in ${info.ms.toFixed(0)} ms`);
    writeFileSync(join(dir, 'user-data'), userData);
    writeFileSync(join(dir, 'meta-data'), metaData);
    execFileSync('genisoimage', ['-quiet', '-o', join(dir, 'seed.iso'), '-V', 'cidata', '-J', '-r', join(dir, 'user-data'), join(dir, 'meta-data')]);
  });
  afterAll(async () => {
    await vm?.kill();
    rmSync(dir, { recursive: true, force: true });
  });

  it('boots, reports the ISO, runs both agents and writes the kubeconfig', async () => {
    vm = await bootTestVm({ dir: join(dir, 'vm'), iso: join(dir, 'seed.iso'), kcDelay: 1 });
    await vm.waitForConsole(/^QKS: ready/m, 120_000);
    const readyMs = Date.now() - vm.startedAt;
    const sha = (s: string) => createHash('sha256').update(s).digest('hex');
    expect(parseGuestFiles(vm.console())).toEqual([
      { name: 'meta-data', size: metaData.length, sha256: sha(metaData) },
      { name: 'user-data', size: userData.length, sha256: sha(userData) },
    ]);
    expect(await agentCommand(vm.dedSocket, 'guest-ping')).toEqual({});
    expect(await agentCommand(vm.stdSocket, 'guest-ping')).toEqual({});
    await vm.waitForConsole(/^QKS: kubeconfig written/m, 30_000);
    console.log(`boot to ready ${readyMs} ms, to kubeconfig ${Date.now() - vm.startedAt} ms`);
    await vm.kill();
  });
}, missingVmPeers);
