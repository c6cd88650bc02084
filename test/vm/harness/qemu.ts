/**
 * Boots the test guest (initramfs.ts) under QEMU software emulation: q35, direct kernel boot, the
 * guest-agent channels as unix sockets (server=on,wait=off, so a client may connect whenever), the
 * cidata ISO as a SATA CD-ROM, the serial console to a file. QEMU daemonizes; we keep its pid file.
 * Every wait polls with a bound; nothing sleeps a fixed time.
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, rmSync, statSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { buildTestInitramfs, testKernel } from './initramfs.js';
import { processAlive as alive } from '../../../src/ssh/index.js'; // QEMU daemonizes: zombies count as gone

const execFileP = promisify(execFile);

export const STANDARD_CHANNEL = 'org.qemu.guest_agent.0';
export const DEDICATED_CHANNEL = 'org.qemu.guest_agent.1';

export interface BootOptions {
  /** Where sockets, console log and pid file go (created if missing). Keep it short: socket paths max 107 bytes. */
  dir: string;
  /** A cidata ISO to attach as a CD-ROM. */
  iso?: string;
  /** Seconds after "QKS: ready" at which the guest writes its kubeconfig; undefined: never. */
  kcDelay?: number;
  /** virtio-serial port names; default both agent channels (.0 on std.sock, .1 on ded.sock). */
  channels?: string[];
  /** Default 256. */
  memoryMiB?: number;
  /** Start no qemu-ga in the guest (kernel arg qks_noagent=1). */
  noAgent?: boolean;
  /** Start qemu-ga only on these ports (kernel arg qks_agents=...). */
  agents?: string[];
  /** Extra kernel command-line words. */
  append?: string[];
  /** Default: buildTestInitramfs(). */
  initrd?: string;
}

export interface TestVm {
  dir: string;
  /** Socket of org.qemu.guest_agent.0 (what libvirt would hold). */
  stdSocket: string;
  /** Socket of org.qemu.guest_agent.1 (the dedicated channel). */
  dedSocket: string;
  /** Socket path per channel name. */
  sockets: Record<string, string>;
  consoleLog: string;
  pid: number;
  /** Date.now() just before QEMU was started. */
  startedAt: number;
  /** Polls the console log until `re` matches (or QEMU dies / the bound passes); returns the match. */
  waitForConsole(re: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  /** The console log so far. */
  console(): string;
  /** Stops QEMU (SIGTERM, then SIGKILL) and waits until it is gone. Idempotent. */
  kill(): Promise<void>;
}

/** QEMU option values escape commas by doubling them. */
function qarg(s: string): string {
  return s.replace(/,/g, ',,');
}

export function socketNameFor(channel: string): string {
  if (channel === STANDARD_CHANNEL) return 'std.sock';
  if (channel === DEDICATED_CHANNEL) return 'ded.sock';
  return `${channel.replace(/[^A-Za-z0-9._-]/g, '_')}.sock`;
}

/** The QEMU command line (pure: easy to print when a boot fails). */
export function qemuArgs(o: {
  dir: string;
  vmlinuz: string;
  initrd: string;
  append: string;
  channels: string[];
  memoryMiB: number;
  iso?: string;
}): string[] {
  const args = [
    '-M', 'q35', '-m', String(o.memoryMiB), '-smp', '1', '-no-reboot', '-nodefaults',
    '-kernel', o.vmlinuz, '-initrd', o.initrd, '-append', o.append,
    '-serial', `file:${qarg(join(o.dir, 'console.log'))}`,
    '-monitor', 'none', '-display', 'none', '-vga', 'none',
    '-pidfile', join(o.dir, 'qemu.pid'), '-daemonize',
  ];
  if (o.channels.length) {
    args.push('-device', 'virtio-serial-pci,id=vser0');
    o.channels.forEach((name, i) => {
      args.push(
        '-chardev', `socket,id=ch${i},path=${qarg(join(o.dir, socketNameFor(name)))},server=on,wait=off`,
        '-device', `virtserialport,bus=vser0.0,chardev=ch${i},name=${qarg(name)}`,
      );
    });
  }
  if (o.iso) {
    args.push('-drive', `if=none,id=cd0,media=cdrom,readonly=on,format=raw,file=${qarg(o.iso)}`, '-device', 'ide-cd,drive=cd0,bus=ide.0');
  }
  return args;
}

/** kill(2) that ignores a process already gone (it may exit between our check and the signal). */
function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ESRCH') throw e;
  }
}

async function until<T>(what: string, timeoutMs: number, probe: () => T | undefined, intervalMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

export async function bootTestVm(options: BootOptions): Promise<TestVm> {
  const dir = resolve(options.dir);
  await mkdir(dir, { recursive: true });
  const channels = options.channels ?? [STANDARD_CHANNEL, DEDICATED_CHANNEL];
  const sockets = Object.fromEntries(channels.map((c) => [c, join(dir, socketNameFor(c))]));
  for (const s of Object.values(sockets)) {
    if (Buffer.byteLength(s) > 107) throw new Error(`socket path too long for AF_UNIX (${s}); use a shorter dir`);
  }
  const kernel = testKernel();
  const initrd = options.initrd ?? (await buildTestInitramfs());
  const append = [
    'console=ttyS0', 'quiet', 'panic=-1',
    `qks_ports=${channels.length}`, `qks_cdrom=${options.iso ? 1 : 0}`,
    ...(options.kcDelay !== undefined ? [`kc_delay=${options.kcDelay}`] : []),
    ...(options.noAgent ? ['qks_noagent=1'] : []),
    ...(options.agents ? [`qks_agents=${options.agents.join(',')}`] : []),
    ...(options.append ?? []),
  ].join(' ');
  const consoleLog = join(dir, 'console.log');
  const args = qemuArgs({
    dir, vmlinuz: kernel.vmlinuz, initrd, append, channels, memoryMiB: options.memoryMiB ?? 256,
    ...(options.iso ? { iso: resolve(options.iso) } : {}),
  });
  const startedAt = Date.now();
  const pidFile = join(dir, 'qemu.pid');
  const pidNow = () => {
    const n = existsSync(pidFile) ? Number(readFileSync(pidFile, 'utf8').trim()) : NaN;
    return Number.isInteger(n) && n > 0 ? n : undefined;
  };
  rmSync(pidFile, { force: true }); // a reused dir's old pid must never be taken for (or killed as) this VM
  try {
    // with -daemonize the parent exits once the VM is set up (sockets listening, pid file written)
    await execFileP('qemu-system-x86_64', args, { timeout: 30_000 });
  } catch (e) {
    // a parent killed by the timeout may have left a daemonized VM behind
    const stray = pidNow();
    if (stray) signal(stray, 'SIGKILL');
    const err = e as { stderr?: string; message: string };
    throw new Error(`qemu-system-x86_64 failed: ${err.stderr?.trim() || err.message}\nargs: ${args.join(' ')}`);
  }
  const pid = await until('the QEMU pid file', 5_000, pidNow);
  try {
    await until('the channel sockets', 5_000, () => (Object.values(sockets).every((s) => existsSync(s) && statSync(s).isSocket()) ? true : undefined));
  } catch (e) {
    // QEMU is daemonized: nobody else would ever stop it
    signal(pid, 'SIGKILL');
    throw e;
  }

  const readConsole = () => (existsSync(consoleLog) ? readFileSync(consoleLog, 'utf8') : '');
  let killed = false;
  const vm: TestVm = {
    dir,
    stdSocket: sockets[STANDARD_CHANNEL] ?? join(dir, 'std.sock'),
    dedSocket: sockets[DEDICATED_CHANNEL] ?? join(dir, 'ded.sock'),
    sockets,
    consoleLog,
    pid,
    startedAt,
    console: readConsole,
    async waitForConsole(re, timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const text = readConsole();
        const m = text.match(re);
        if (m) return m;
        const tail = () => text.split('\n').slice(-15).join('\n');
        if (!alive(pid)) throw new Error(`QEMU (pid ${pid}) exited before the console showed ${re}; console tail:\n${tail()}`);
        if (Date.now() > deadline) throw new Error(`console did not show ${re} within ${timeoutMs} ms; console tail:\n${tail()}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    async kill() {
      if (killed) return;
      killed = true;
      if (!alive(pid)) return;
      signal(pid, 'SIGTERM');
      try {
        await until(`QEMU pid ${pid} to exit`, 5_000, () => (alive(pid) ? undefined : true));
      } catch {
        signal(pid, 'SIGKILL');
        await until(`QEMU pid ${pid} to exit after SIGKILL`, 5_000, () => (alive(pid) ? undefined : true));
      }
    },
  };
  return vm;
}

export interface GuestFile {
  name: string;
  size: number;
  sha256: string;
}

/** The `QKS: file: NAME SIZE SHA256` lines of a console log. */
export function parseGuestFiles(consoleText: string): GuestFile[] {
  return [...consoleText.matchAll(/^QKS: file: (\S+) (\d+) ([0-9a-f]{64})\r?$/gm)].map((m) => ({
    name: m[1]!,
    size: Number(m[2]),
    sha256: m[3]!,
  }));
}

/** Why a test VM cannot boot here, or undefined. */
export function missingVmPeers(): string | undefined {
  for (const c of ['/usr/bin/qemu-system-x86_64', '/bin/busybox', '/usr/sbin/qemu-ga']) {
    if (!existsSync(c)) return `missing ${c} (install with: npm run test:deps)`;
  }
  try {
    testKernel();
  } catch (e) {
    return (e as Error).message;
  }
  return undefined;
}
