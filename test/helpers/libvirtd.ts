/**
 * A real libvirtd for tests (root, no systemd): started the way the host's packages expect when none
 * answers, and left running for other suites (it is shared); transient test domains booted from the
 * test initramfs (test/vm/harness). This helper may use virsh to set things up; the code under test
 * never does.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { chownSync, copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildTestInitramfs, testKernel } from '../vm/harness/initramfs.js';
import { IS_ROOT, which } from './peers.js';

export const LIBVIRT_SOCKET = '/var/run/libvirt/libvirt-sock';
export const IMAGES_DIR = '/var/lib/libvirt/images';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function virsh(args: string[], timeoutMs = 20_000): { ok: boolean; out: string; err: string } {
  const r = spawnSync('virsh', ['-c', 'qemu:///system', ...args], { encoding: 'utf8', timeout: timeoutMs });
  return { ok: r.status === 0, out: r.stdout ?? '', err: r.stderr ?? '' };
}

/** Why libvirtd tests cannot run here, or undefined. */
export function missingLibvirtd(): string | undefined {
  if (!IS_ROOT) return 'needs root (starts libvirtd, creates users and domains)';
  for (const c of ['libvirtd', 'virtlogd', 'virsh', 'qemu-system-x86_64']) if (!which(c)) return `missing ${c} (npm run test:deps)`;
  return undefined;
}

const pgrep = (name: string) => spawnSync('pgrep', ['-x', name]).status === 0;

/**
 * Starts dbus + polkitd (for libvirt-group users), virtlogd and libvirtd when libvirtd does not answer.
 * Returns what it started; it leaves them running (other suites share the daemon).
 */
export async function ensureLibvirtd(): Promise<{ started: string[]; version: string }> {
  const started: string[] = [];
  if (existsSync('/usr/lib/polkit-1/polkitd') && !pgrep('polkitd')) {
    mkdirSync('/run/dbus', { recursive: true });
    if (spawnSync('pgrep', ['-f', 'dbus-daemon.*--system']).status !== 0) {
      // leftovers of a daemon that is gone (a restarted container) make dbus-daemon refuse to start
      for (const f of ['/run/dbus/pid', '/run/dbus/system_bus_socket']) rmSync(f, { force: true });
      execFileSync('dbus-daemon', ['--system', '--fork'], { timeout: 10_000 });
      started.push('dbus-daemon');
    }
    spawn('/usr/lib/polkit-1/polkitd', ['--no-debug'], { detached: true, stdio: 'ignore' }).unref();
    started.push('polkitd');
    for (let i = 0; i < 50 && !pgrep('polkitd'); i++) await sleep(100);
  }
  if (!virsh(['version'], 5_000).ok) {
    if (!pgrep('virtlogd')) {
      execFileSync('virtlogd', ['-d'], { timeout: 10_000 });
      started.push('virtlogd');
    }
    if (!pgrep('libvirtd')) {
      execFileSync('libvirtd', ['-d'], { timeout: 30_000 });
      started.push('libvirtd');
    }
    for (let i = 0; i < 60 && !virsh(['version'], 5_000).ok; i++) await sleep(500);
  }
  const v = virsh(['version']);
  if (!v.ok) throw new Error(`libvirtd does not answer: ${v.err}`);
  return { started, version: /libvirt ([\d.]+)/i.exec(v.out)?.[1] ?? 'unknown' };
}

export interface TestDomain {
  name: string;
  dir: string;
  consoleLog: string;
  /** Waits until libvirt's agent connection answers guest-ping (bounded). */
  waitForAgent(timeoutMs?: number): Promise<number>;
  /** Waits for a line on the serial console. */
  waitForConsole(pattern: RegExp, timeoutMs?: number): Promise<void>;
  destroy(): void;
}

export interface TestDomainOptions {
  name: string;
  /** Kernel arguments after console=ttyS0 (e.g. qks_noagent=1, kc_delay=0). */
  kernelArgs?: string;
  /** virtio-serial channel target names, each a unix socket libvirt places. */
  channels?: string[];
  memoryMiB?: number;
  /** A prebuilt initramfs (default: build or reuse the test harness's). */
  initrd?: string;
}

export function domainXml(o: Required<Omit<TestDomainOptions, 'initrd'>> & { kernel: string; initrd: string; consoleLog: string }): string {
  const channels = o.channels
    .map((c) => `    <channel type='unix'><source mode='bind'/><target type='virtio' name='${c}'/></channel>`)
    .join('\n');
  return `<domain type='qemu'>
  <name>${o.name}</name>
  <memory unit='MiB'>${o.memoryMiB}</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
    <kernel>${o.kernel}</kernel>
    <initrd>${o.initrd}</initrd>
    <cmdline>console=ttyS0 quiet qks_ports=${o.channels.length} ${o.kernelArgs}</cmdline>
  </os>
  <on_poweroff>destroy</on_poweroff>
  <devices>
    <serial type='file'><source path='${o.consoleLog}'/><target port='0'/></serial>
${channels}
    <memballoon model='none'/>
  </devices>
</domain>
`;
}

/** Creates a transient domain (gone when destroyed) from the test initramfs and the host's kernel. */
export async function startTestDomain(opts: TestDomainOptions): Promise<TestDomain> {
  const { initrd: prebuilt, ...rest } = opts;
  const o: Required<Omit<TestDomainOptions, 'initrd'>> = {
    kernelArgs: 'kc_delay=0',
    channels: ['org.qemu.guest_agent.0', 'org.qemu.guest_agent.1'],
    memoryMiB: 256,
    ...rest,
  };
  virsh(['destroy', o.name]); // a leftover of an interrupted run
  const dir = join(IMAGES_DIR, `qks-test-${o.name}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const kernel = join(dir, 'vmlinuz');
  const initrd = join(dir, 'initrd.gz');
  const consoleLog = join(dir, 'console.log');
  copyFileSync(testKernel().vmlinuz, kernel);
  copyFileSync(prebuilt ?? (await buildTestInitramfs()), initrd);
  writeFileSync(consoleLog, '');
  const qemuUser = spawnSync('id', ['-u', 'libvirt-qemu']);
  if (qemuUser.status === 0) {
    const uid = Number(qemuUser.stdout.toString());
    for (const f of [dir, kernel, initrd, consoleLog]) chownSync(f, uid, -1);
  }
  const xmlPath = join(dir, 'domain.xml');
  writeFileSync(xmlPath, domainXml({ ...o, kernel, initrd, consoleLog }));
  const r = virsh(['create', xmlPath], 60_000);
  if (!r.ok) throw new Error(`virsh create ${o.name}: ${r.err}`);

  const readConsole = () => (existsSync(consoleLog) ? readFileSync(consoleLog, 'utf8') : '');
  return {
    name: o.name,
    dir,
    consoleLog,
    async waitForConsole(pattern, timeoutMs = 60_000) {
      const end = Date.now() + timeoutMs;
      while (!pattern.test(readConsole())) {
        if (Date.now() > end) throw new Error(`${o.name}: no ${pattern} on the console within ${timeoutMs} ms:\n${readConsole().slice(-2000)}`);
        await sleep(200);
      }
    },
    async waitForAgent(timeoutMs = 90_000) {
      const started = Date.now();
      const end = started + timeoutMs;
      for (;;) {
        const p = virsh(['qemu-agent-command', '--timeout', '2', o.name, '{"execute":"guest-ping"}'], 10_000);
        if (p.ok) return Date.now() - started;
        if (Date.now() > end) throw new Error(`${o.name}: agent not answering within ${timeoutMs} ms: ${p.err}\n${readConsole().slice(-2000)}`);
        await sleep(500);
      }
    },
    destroy() {
      virsh(['destroy', o.name]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Creates (if absent) a system user for the tests, in the given supplementary groups. */
export function ensureUser(name: string, groups: string[] = []): { uid: number; gid: number } {
  if (spawnSync('id', ['-u', name]).status !== 0) {
    execFileSync('useradd', ['-M', '-s', '/bin/sh', ...(groups.length ? ['-G', groups.join(',')] : []), name]);
  } else {
    execFileSync('usermod', ['-G', groups.join(','), name]);
  }
  const id = (flag: string) => Number(execFileSync('id', [flag, name], { encoding: 'utf8' }).trim());
  return { uid: id('-u'), gid: id('-g') };
}

/**
 * Restarts the running libvirtd with the arguments it runs with now (those of ensureLibvirtd, or a
 * config another suite gave it), and waits until it answers. Running domains survive a restart.
 * For the agent suite's restart test only (issue 17); shared daemon: call it last.
 */
export async function restartLibvirtd(timeoutMs = 60_000): Promise<void> {
  const pid = spawnSync('pgrep', ['-x', 'libvirtd'], { encoding: 'utf8' }).stdout.trim().split('\n')[0];
  if (!pid) throw new Error('libvirtd is not running');
  const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
  process.kill(Number(pid), 'SIGTERM');
  const end = Date.now() + timeoutMs;
  while (existsSync(`/proc/${pid}`) && Date.now() < end) await sleep(50);
  execFileSync(argv[0]!, argv.slice(1), { timeout: 30_000 });
  while (!virsh(['version'], 5_000).ok) {
    if (Date.now() > end) throw new Error('libvirtd did not come back');
    await sleep(200);
  }
}

/** Running domains that are not this suite's (their names do not start with `prefix`). */
export function foreignDomains(prefix: string): string[] {
  return virsh(['list', '--name']).out.split('\n').map((s) => s.trim()).filter((n) => n && !n.startsWith(prefix));
}
