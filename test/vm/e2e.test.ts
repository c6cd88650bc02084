// The whole flow against a real VM: `artifacts --create-iso` makes the seed; a guest (Debian kernel +
// busybox + real qemu-ga, QEMU TCG) mounts it by label and reports its files, runs qemu-ga on both
// agent channels and writes a kubeconfig some seconds later (standing in for Kubesolo);
// `kubeconfig --wait`, started before the VM boots, returns it with the server rewritten.
// Then the libvirt situation: another client holds org.qemu.guest_agent.0 — the standard socket is
// reported SOCKET_HELD quickly, and the dedicated org.qemu.guest_agent.1 still delivers.
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chownSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { parse } from 'yaml';
import { domainXml } from '../../src/libvirt/domain-xml.js';
import { runCli, type CliResult } from '../helpers/cli.js';
import { ensureLibvirtd, IMAGES_DIR, missingLibvirtd } from '../helpers/libvirtd.js';
import { describeWithPeers, IS_ROOT } from '../helpers/peers.js';
import { buildTestInitramfs, buildTestInitramfsInfo, GUEST_KUBECONFIG, GUEST_KUBECONFIG_PATH, testKernel } from './harness/initramfs.js';
import { bootTestVm, missingVmPeers, parseGuestFiles, type TestVm } from './harness/qemu.js';

const API = '10.0.0.50';
const sha256 = (d: Buffer) => createHash('sha256').update(d).digest('hex');

/** The guest's kubeconfig as the tool must write it: every cluster's server rewritten, nothing else changed. */
function expectedKubeconfig(): Record<string, unknown> {
  const kc = parse(readFileSync(GUEST_KUBECONFIG, 'utf8')) as { clusters: { cluster: { server: string } }[] };
  for (const c of kc.clusters) c.cluster.server = `https://${API}:6443`;
  return kc as unknown as Record<string, unknown>;
}

/** Connects to a socket and stays connected, having done a guest-sync like libvirt does. */
async function holdSocket(path: string): Promise<Socket> {
  const s = connect(path);
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no guest-sync answer on ${path}`)), 30_000);
    s.once('error', reject);
    s.on('connect', () => s.write(Buffer.concat([Buffer.from([0xff]), Buffer.from('{"execute":"guest-sync-delimited","arguments":{"id":4242}}\n')])));
    let buf = '';
    s.on('data', (d) => {
      buf += d.toString('latin1');
      if (buf.includes('"return": 4242') || buf.includes('"return":4242')) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  return s;
}

describeWithPeers(
  'end to end: artifacts -> VM -> kubeconfig',
  ['qemu-system-x86_64', 'ssh-keygen'],
  () => {
    let dir: string;
    let iso: string;
    let seedFiles: Record<string, Buffer>;
    const vms: TestVm[] = [];
    const cleanups: (() => void)[] = [];

    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'qks-e2e-'));
      const info = await buildTestInitramfsInfo();
      console.log(`initramfs: ${info.bytes} bytes, ${info.built ? 'built' : 'from cache'} in ${info.ms.toFixed(0)} ms (kernel ${info.kernel.version}, ${info.qemuGaVersion})`);
      execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'e2e@test', '-f', join(dir, 'id')]);
      const art = join(dir, 'artifacts');
      const r = await runCli(['artifacts', '--ssh-key', join(dir, 'id.pub'), '--hostname', 'e2e-node', '--auto-install-kubesolo', '--output-dir', art, '--create-iso']);
      expect(r.stderr + r.stdout).not.toMatch(/unknown command/);
      expect(r.code, r.stderr).toBe(0);
      iso = join(art, 'cidata.iso');
      seedFiles = {};
      for (const f of ['user-data', 'meta-data', 'network-config']) if (existsSync(join(art, f))) seedFiles[f] = readFileSync(join(art, f));
    });
    afterEach(async (ctx) => {
      for (const vm of vms.splice(0)) {
        if (ctx.task.result?.state === 'fail') console.log(`console of the failed run:\n${vm.console().split('\n').filter((l) => l.startsWith('QKS')).join('\n')}`);
        await vm.kill();
      }
      for (const c of cleanups.splice(0)) c();
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it('kubeconfig --wait started before boot returns the guest kubeconfig with the server rewritten', async () => {
      const vmDir = join(dir, 'vm1');
      mkdirSync(vmDir);
      const out = join(dir, 'kube', 'e2e.kubeconfig');
      // started first: the socket does not exist yet, --wait keeps trying
      const t0 = Date.now();
      const cli: Promise<CliResult> = runCli(
        ['--json', 'kubeconfig', '--socket', join(vmDir, 'ded.sock'), '--wait', '--timeout', '240', '--api-server', API, '--output', out, '--no-verify-server'],
        { timeoutMs: 300_000 },
      );
      const vm = await bootTestVm({ dir: vmDir, iso, kcDelay: 5 });
      vms.push(vm);
      await vm.waitForConsole(/^QKS: ready/m, 180_000);
      const readyMs = Date.now() - vm.startedAt;

      // the guest saw our seed with the long names, byte for byte
      const seen = parseGuestFiles(vm.console());
      expect(seen.map((f) => f.name)).toEqual(Object.keys(seedFiles).sort());
      for (const f of seen) expect(f).toEqual({ name: f.name, size: seedFiles[f.name]!.length, sha256: sha256(seedFiles[f.name]!) });

      const r = await cli;
      const kcMs = Date.now() - vm.startedAt;
      expect(r.code, r.stderr).toBe(0);
      expect(vm.console()).toMatch(/^QKS: kubeconfig written/m);
      expect(parse(readFileSync(out, 'utf8'))).toEqual(expectedKubeconfig());
      expect(statSync(out).mode & 0o777).toBe(0o600);
      expect(r.json[0]).toMatchObject({ ok: true, server: `https://${API}:6443` });
      console.log(`boot to ready ${readyMs} ms; boot to kubeconfig ${kcMs} ms (guest wrote it 5 s after ready); CLI ran ${Date.now() - t0} ms in all`);
    });

    it('beside a client holding org.qemu.guest_agent.0: SOCKET_HELD there, the dedicated channel still works', async () => {
      const vmDir = join(dir, 'vm2');
      const vm = await bootTestVm({ dir: vmDir, iso, kcDelay: 0 });
      vms.push(vm);
      await vm.waitForConsole(/^QKS: kubeconfig written/m, 180_000);
      const holder = await holdSocket(vm.stdSocket); // what libvirt does while the guest's qemu-ga runs
      cleanups.push(() => holder.destroy());

      const held = await runCli(['--json', 'kubeconfig', '--socket', vm.stdSocket, '--api-server', API, '--output', join(dir, 'held.kubeconfig'), '--no-verify-server'], { timeoutMs: 60_000 });
      expect(held.code).toBe(5);
      expect(held.json[0]).toMatchObject({ ok: false, error: { code: 'SOCKET_HELD' } });
      expect(held.ms).toBeLessThan(15_000);
      expect(existsSync(join(dir, 'held.kubeconfig'))).toBe(false);
      console.log(`SOCKET_HELD reported in ${held.ms.toFixed(0)} ms`);

      const out = join(dir, 'ded.kubeconfig');
      const ded = await runCli(['kubeconfig', '--socket', vm.dedSocket, '--api-server', API, '--output', out, '--no-verify-server'], { timeoutMs: 60_000 });
      expect(ded.code, ded.stderr).toBe(0);
      expect(parse(readFileSync(out, 'utf8'))).toEqual(expectedKubeconfig());
      console.log(`dedicated channel beside the held one: ${ded.ms.toFixed(0)} ms (whole process)`);

      // --vm-name discovery over the guide's layout (…/channel/target/domain-<name>/), both channels present:
      // the tool must pick .1 and never queue on the held .0
      if (IS_ROOT) {
        const name = `qks-e2e-${process.pid}`;
        const domDir = `/var/lib/libvirt/qemu/channel/target/domain-${name}`;
        mkdirSync(domDir, { recursive: true });
        cleanups.push(() => rmSync(domDir, { recursive: true, force: true }));
        symlinkSync(vm.stdSocket, join(domDir, 'org.qemu.guest_agent.0'));
        symlinkSync(vm.dedSocket, join(domDir, 'org.qemu.guest_agent.1'));
        const byName = await runCli(['--json', 'kubeconfig', '--vm-name', name, '--transport', 'direct', '--api-server', API, '--output', join(dir, 'byname.kubeconfig'), '--no-verify-server'], { timeoutMs: 60_000 });
        expect(byName.code, byName.stderr).toBe(0);
        expect(byName.json[0]).toMatchObject({ ok: true, transport: { channel: 'org.qemu.guest_agent.1' } });
        expect(parse(readFileSync(join(dir, 'byname.kubeconfig'), 'utf8'))).toEqual(expectedKubeconfig());
      }
    });

    // parallel callers take turns on the dedicated channel; qemu-ga restarted in the guest mid-wait
    it('eight kubeconfig processes at once all succeed; --wait survives a qemu-ga restart in the guest', async () => {
      const vmDir = join(dir, 'vm3');
      const vm = await bootTestVm({ dir: vmDir, iso, kcDelay: 0 });
      vms.push(vm);
      await vm.waitForConsole(/^QKS: kubeconfig written/m, 180_000);
      const runs = await Promise.all(
        Array.from({ length: 8 }, (_, i) => runCli(['kubeconfig', '--socket', vm.dedSocket, '--api-server', API, '--output', join(dir, `par${i}.kubeconfig`), '--no-verify-server'], { timeoutMs: 180_000 })),
      );
      for (const r of runs) expect({ code: r.code, err: r.stderr }).toEqual({ code: 0, err: '' });
      console.log(`[figure] 8 parallel kubeconfig processes on one VM channel: slowest ${Math.max(...runs.map((r) => r.ms)).toFixed(0)} ms`);

      // a path written later, so the wait is in progress while qemu-ga restarts
      const late = '/tmp/qks-late.kubeconfig';
      const waiting = runCli(['kubeconfig', '--socket', vm.dedSocket, '--wait', '--timeout', '120', '--remote-path', late, '--api-server', API, '--output', join(dir, 'late.kubeconfig'), '--no-verify-server'], { timeoutMs: 180_000 });
      const ch = 'org.qemu.guest_agent.1';
      const restart =
        `sleep 1; kill $(cat /run/qga/${ch}.pid); sleep 2; ` +
        `/usr/sbin/qemu-ga -m virtio-serial -p /dev/virtio-ports/${ch} -t /run/qga/${ch} -f /run/qga/${ch}.pid -l /var/log/qga-${ch}.log -d; ` +
        `sleep 2; cp ${GUEST_KUBECONFIG_PATH} ${late}.tmp && mv ${late}.tmp ${late}; echo QKS: late kubeconfig written > /dev/console`;
      const kick = await runCli(['agent', 'exec', '--socket', vm.dedSocket, '--', '/bin/sh', '-c', `setsid sh -c '${restart}' </dev/null >/dev/null 2>&1 &`], { timeoutMs: 60_000 });
      expect(kick.code, kick.stderr).toBe(0);
      await vm.waitForConsole(/^QKS: late kubeconfig written/m, 60_000);
      const readable = performance.now();
      const r = await waiting;
      console.log(`[figure] --wait across a qemu-ga restart in the guest: returned ${Math.round(performance.now() - readable)} ms after the file was written`);
      expect(r.code, r.stderr).toBe(0);
      expect(parse(readFileSync(join(dir, 'late.kubeconfig'), 'utf8'))).toEqual(expectedKubeconfig());
    }, 400_000);
  },
  missingVmPeers,
);

// libvirt runs the guest from the XML `domain-xml` prints (direct kernel boot for the test guest; no NIC:
// no libvirt network runs here). libvirt connects to org.qemu.guest_agent.0 and keeps it; the tool finds
// the sockets by VM name (no virsh) and reads the kubeconfig over org.qemu.guest_agent.1.
describeWithPeers(
  'end to end under libvirtd, from our domain XML',
  ['qemu-img'],
  () => {
    const name = `qks-dx-${process.pid}`;
    const dir = join(IMAGES_DIR, `qks-test-${name}`);
    // setup only: the code under test never calls virsh
    const virsh = (...args: string[]) => spawnSync('virsh', ['-c', 'qemu:///system', ...args], { encoding: 'utf8', timeout: 60_000 });
    afterAll(() => {
      virsh('destroy', name);
      rmSync(dir, { recursive: true, force: true });
    });

    it('kubeconfig --vm-name --wait and doctor --vm-name work while libvirt holds the standard channel', async () => {
      await ensureLibvirtd();
      rmSync(dir, { recursive: true, force: true });
      mkdirSync(dir, { recursive: true });
      const files = { kernel: join(dir, 'vmlinuz'), initrd: join(dir, 'initrd.gz'), disk: join(dir, 'boot.qcow2'), iso: join(dir, 'cidata.iso'), consoleLog: join(dir, 'console.log') };
      copyFileSync(testKernel().vmlinuz, files.kernel);
      copyFileSync(await buildTestInitramfs(), files.initrd);
      execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', files.disk, '64M']);
      writeFileSync(join(dir, 'user-data'), '#cloud-config\nhostname: libvirt-e2e\n');
      writeFileSync(join(dir, 'meta-data'), `instance-id: ${name}\n`);
      const seed = await runCli(['iso', '--out', files.iso, join(dir, 'user-data'), join(dir, 'meta-data')]);
      expect(seed.code, seed.stderr).toBe(0);
      writeFileSync(files.consoleLog, '');
      const qemuUid = spawnSync('id', ['-u', 'libvirt-qemu'], { encoding: 'utf8' });
      if (qemuUid.status === 0) for (const f of [dir, ...Object.values(files)]) chownSync(f, Number(qemuUid.stdout), -1);

      const xml = domainXml({
        name, disk: files.disk, iso: files.iso, domainType: 'qemu', memoryMiB: 256, vcpus: 1, network: { type: 'none' },
        kernel: files.kernel, initrd: files.initrd, consoleLog: files.consoleLog,
        cmdline: 'console=ttyS0 quiet panic=-1 qks_ports=2 qks_cdrom=1 kc_delay=3',
      });
      writeFileSync(join(dir, 'domain.xml'), xml);
      const out = join(dir, 'kubeconfig');
      const cli = runCli(['--json', 'kubeconfig', '--vm-name', name, '--transport', 'direct', '--wait', '--timeout', '240', '--api-server', API, '--output', out, '--no-verify-server'], { timeoutMs: 300_000 });
      const started = Date.now();
      const created = virsh('create', join(dir, 'domain.xml'));
      expect(created.status, created.stderr).toBe(0);

      const r = await cli;
      expect(r.code, r.stderr).toBe(0);
      expect(r.json[0]).toMatchObject({ ok: true, transport: { channel: 'org.qemu.guest_agent.1' } });
      expect(parse(readFileSync(out, 'utf8'))).toEqual(expectedKubeconfig());
      console.log(`libvirt: domain start to kubeconfig ${Date.now() - started} ms`);
      expect(readFileSync(files.consoleLog, 'utf8')).toMatch(/^QKS: file: user-data /m);

      // libvirt really holds .0: its own agent command works, and doctor says all is well over .1
      expect(virsh('qemu-agent-command', name, '{"execute":"guest-ping"}').status).toBe(0);
      const doc = await runCli(['--json', 'doctor', '--vm-name', name, '--timeout', '2'], { timeoutMs: 60_000 });
      const checks = (doc.json[0] as { checks: { id: string; status: string; detail: string }[] }).checks;
      expect(doc.code, JSON.stringify(checks, null, 1)).toBe(0);
      expect(checks.find((c) => c.id === 'channel-dir')!.status).toBe('ok');
      expect(checks.find((c) => c.id === 'dedicated-channel')!.status).toBe('ok');
      expect(checks.find((c) => c.id === 'kubeconfig')!.status).toBe('ok');
    });
  },
  missingLibvirtd,
);
