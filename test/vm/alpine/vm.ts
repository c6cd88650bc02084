/**
 * One Alpine-shaped guest under the real libvirtd: its domain is the project's own `domain-xml`
 * output (both agent channels, the seed as CD-ROM, a console file, direct kernel boot), with QEMU user
 * networking added through libvirt's qemu:commandline namespace (libvirt's XML has no knob for
 * `restrict=on`): slirp's 10.0.2.0/24 inside QEMU, nothing reaches the host's network or beyond, and one
 * host forward of a random loopback port to the guest's 6443. virsh is used here for setup only.
 */
import { spawnSync } from 'node:child_process';
import { chownSync, copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { IMAGES_DIR } from '../../helpers/libvirtd.js';
import { runCli } from '../../helpers/cli.js';
import type { AlpineImage } from './rootfs.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function virsh(args: string[], timeoutMs = 30_000): { ok: boolean; out: string; err: string } {
  const r = spawnSync('virsh', ['-c', 'qemu:///system', ...args], { encoding: 'utf8', timeout: timeoutMs });
  return { ok: r.status === 0, out: r.stdout ?? '', err: r.stderr ?? '' };
}

/** A loopback port nobody holds right now (the kernel picks it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** Kernel arguments: eth0 as Alpine names it (net.ifnames=0), root on the virtio disk. */
export const GUEST_CMDLINE = 'console=ttyS0 root=/dev/vda rw net.ifnames=0 panic=-1';
export const GUEST_MAC = '52:54:00:4b:51:53';

/** The project's domain XML plus the user-mode NIC (restrict=on) and its one host forward. */
export async function alpineDomainXml(o: { name: string; disk: string; iso: string; kernel: string; initrd: string; consoleLog: string; apiPort: number }): Promise<string> {
  const r = await runCli([
    'domain-xml', '--name', o.name, '--disk', o.disk, '--disk-format', 'raw', '--iso', o.iso, '--network', 'none',
    '--domain-type', 'qemu', '--machine', 'q35', '--memory', '1024', '--vcpus', '2', '--console-log', o.consoleLog,
    '--kernel', o.kernel, '--initrd', o.initrd, '--cmdline', GUEST_CMDLINE,
  ], { cleanEnv: true });
  if (r.code !== 0) throw new Error(`domain-xml exited ${r.code}: ${r.stderr}`);
  const netdev = `user,id=qksnet,restrict=on,net=10.0.2.0/24,hostfwd=tcp:127.0.0.1:${o.apiPort}-:6443`;
  // an explicit slot on the root bus: QEMU would otherwise give it slot 1, which libvirt's root ports take
  const args = ['-netdev', netdev, '-device', `virtio-net-pci,netdev=qksnet,mac=${GUEST_MAC},bus=pcie.0,addr=0x10`];
  const extra = `  <qemu:commandline>\n${args.map((a) => `    <qemu:arg value='${a}'/>`).join('\n')}\n  </qemu:commandline>\n`;
  const xml = r.stdout
    .replace(/^<domain type='qemu'>/m, `<domain type='qemu' xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'>`)
    .replace(/<\/domain>\s*$/, `${extra}</domain>\n`);
  if (!xml.includes('qemu:commandline') || !xml.includes('xmlns:qemu')) throw new Error(`unexpected domain-xml output:\n${r.stdout}`);
  return xml;
}

export interface AlpineDomain {
  name: string;
  dir: string;
  apiPort: number;
  xml: string;
  console(): string;
  waitForConsole(pattern: RegExp, count: number, timeoutMs: number): Promise<number>;
  destroy(): void;
}

/** Boots a transient domain from a private copy of the image and the seed. */
export async function startAlpineDomain(name: string, image: AlpineImage, iso: string): Promise<AlpineDomain> {
  virsh(['destroy', name]); // a leftover of an interrupted run
  const dir = join(IMAGES_DIR, `qks-test-${name}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const disk = join(dir, 'disk.img');
  const seed = join(dir, 'cidata.iso');
  const kernel = join(dir, 'vmlinuz');
  const initrd = join(dir, 'initrd.img');
  const consoleLog = join(dir, 'console.log');
  const cp = spawnSync('cp', ['--sparse=always', image.image, disk], { timeout: 300_000 });
  if (cp.status !== 0) throw new Error(`cp ${image.image}: ${cp.stderr}`);
  copyFileSync(iso, seed);
  copyFileSync(image.kernel.kernel, kernel);
  copyFileSync(image.kernel.initrd, initrd);
  writeFileSync(consoleLog, '');
  const qemuUser = spawnSync('id', ['-u', 'libvirt-qemu']);
  if (qemuUser.status === 0) {
    const uid = Number(qemuUser.stdout.toString());
    for (const f of [dir, disk, seed, kernel, initrd, consoleLog]) chownSync(f, uid, -1);
  }
  const apiPort = await freePort();
  const xml = await alpineDomainXml({ name, disk, iso: seed, kernel, initrd, consoleLog, apiPort });
  writeFileSync(join(dir, 'domain.xml'), xml);
  const r = virsh(['create', join(dir, 'domain.xml')], 120_000);
  if (!r.ok) throw new Error(`virsh create ${name}: ${r.err}`);
  const readConsole = () => (existsSync(consoleLog) ? readFileSync(consoleLog, 'utf8') : '');
  return {
    name,
    dir,
    apiPort,
    xml,
    console: readConsole,
    async waitForConsole(pattern, count, timeoutMs) {
      const started = Date.now();
      const g = new RegExp(pattern.source, 'g');
      while ((readConsole().match(g)?.length ?? 0) < count) {
        if (Date.now() - started > timeoutMs) throw new Error(`${name}: ${pattern} not seen ${count}x within ${timeoutMs} ms:\n${readConsole().slice(-3000)}`);
        await sleep(1000);
      }
      return Date.now() - started;
    },
    destroy() {
      virsh(['destroy', name]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
