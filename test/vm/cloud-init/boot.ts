/**
 * Boots the Debian guest under QEMU (TCG) with the host kernel, a private copy of the guest image as a
 * virtio disk and a seed ISO as the CD-ROM; the guest powers itself off once cloud-init has finished
 * (guest/qks-done). Then the disk is checked (`e2fsck -fy`) and read with `debugfs`, never mounted.
 */
import { execFile, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { cacheDir, type GuestImage } from './rootfs.js';

const execFileP = promisify(execFile);

export const DONE_MARKER = 'QKS: cloud-init done';

export interface BootOptions {
  /** Bound on the whole boot; qemu is killed after it. Default 300 s. */
  timeoutMs?: number;
  memoryMiB?: number;
  cpus?: number;
}

export interface BootResult {
  /** True when the guest reported cloud-init finished and powered off by itself. */
  finished: boolean;
  /** Wall time from qemu start to the guest's power-off. */
  seconds: number;
  /** The guest's uptime when boot-finished appeared (from its console line), if it got there. */
  guestSeconds?: number;
  /** The harness's own last line on the console ("QKS: ..."), when the guest got that far. */
  guestSaid?: string;
  console: string;
  exit: { code: number | null; signal: NodeJS.Signals | null; timedOut: boolean };
}

/** A private, writable copy of the guest image, booted any number of times, read, then removed. */
export class GuestDisk {
  private constructor(
    readonly image: GuestImage,
    readonly dir: string,
    readonly path: string,
  ) {}

  static async create(image: GuestImage): Promise<GuestDisk> {
    // In the cache directory: same filesystem as the image, so the sparse copy is cheap.
    const dir = await mkdtemp(join(cacheDir(), '.run-'));
    const path = join(dir, 'disk.ext4');
    await execFileP('cp', ['--sparse=always', image.image, path], { timeout: 120_000 });
    return new GuestDisk(image, dir, path);
  }

  /** Boots the disk with the seed(s) as CD-ROM(s) until the guest powers off or the timeout kills it. */
  async boot(seeds: string | string[], opts: BootOptions = {}): Promise<BootResult> {
    const { kernel } = this.image;
    const consolePath = join(this.dir, `console-${Date.now()}.log`);
    const args = [
      '-M', 'q35', '-accel', 'tcg', '-m', String(opts.memoryMiB ?? 1024), '-smp', String(opts.cpus ?? 2),
      '-no-reboot', '-nodefaults', '-display', 'none', '-monitor', 'none',
      '-kernel', kernel.kernel, '-initrd', kernel.initrd,
      // net.ifnames=0: the NIC is eth0, as on Alpine, so a config keyed by eth0 applies.
      // quiet: every console byte costs an emulated I/O exit; cloud-init's own output still shows.
      '-append', 'console=ttyS0 root=/dev/vda rw panic=-1 net.ifnames=0 quiet',
      '-drive', `file=${this.path},if=virtio,format=raw`,
      ...[seeds].flat().flatMap((seed) => ['-drive', `file=${seed},media=cdrom,readonly=on`]),
      // A NIC for the network-config to configure; restrict=on: no way out of the host.
      '-nic', 'user,model=virtio-net-pci,restrict=on',
      '-serial', `file:${consolePath}`,
    ];
    const started = performance.now();
    const timeoutMs = opts.timeoutMs ?? 300_000;
    const exit = await new Promise<BootResult['exit']>((resolve, reject) => {
      const child = spawn('qemu-system-x86_64', args, { stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr = (stderr + d).slice(-4000)));
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        child.kill('SIGKILL');
      }, timeoutMs);
      // A test runner that dies mid-boot must not leave qemu running.
      const onExit = () => child.kill('SIGKILL');
      process.once('exit', onExit);
      child.on('error', (e) => {
        clearTimeout(timer);
        process.off('exit', onExit);
        reject(e);
      });
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        process.off('exit', onExit);
        if (code && !timedOut && stderr) reject(new Error(`qemu exited ${code}: ${stderr}`));
        else resolve({ code, signal, timedOut });
      });
    });
    const seconds = (performance.now() - started) / 1000;
    let consoleText = '';
    try {
      consoleText = readFileSync(consolePath, 'utf8');
    } catch {
      // no console output at all: reported as not finished below
    }
    const m = new RegExp(`${DONE_MARKER} after ([0-9.]+) s`).exec(consoleText);
    // Make the disk consistent for debugfs whatever happened (a killed guest leaves a dirty journal).
    await execFileP('e2fsck', ['-fy', this.path], { timeout: 120_000 }).catch(() => undefined);
    const guestSaid = /QKS: [^\r\n]*/.exec(consoleText)?.[0];
    return { finished: !!m && !exit.timedOut, seconds, guestSeconds: m ? Number(m[1]) : undefined, guestSaid, console: consoleText, exit };
  }

  /** A file's bytes, or undefined when it does not exist. */
  async read(path: string): Promise<Buffer | undefined> {
    if (!(await this.stat(path))) return undefined;
    const { stdout } = await execFileP('debugfs', ['-R', `cat ${path}`, this.path], {
      encoding: 'buffer', timeout: 60_000, maxBuffer: 64 << 20,
    });
    return stdout;
  }

  async readText(path: string): Promise<string | undefined> {
    return (await this.read(path))?.toString('utf8');
  }

  /** Type, permission bits and owner of a path (not following a final symlink), or undefined. */
  async stat(path: string): Promise<{ type: 'file' | 'dir' | 'symlink' | 'other'; mode: number; uid: number; gid: number } | undefined> {
    const { stdout } = await execFileP('debugfs', ['-R', `stat ${path}`, this.path], { timeout: 60_000 });
    const type = /Type: (\w+)/.exec(stdout)?.[1];
    const mode = /Mode:\s+([0-7]+)/.exec(stdout)?.[1];
    const owner = /User:\s+(\d+)\s+Group:\s+(\d+)/.exec(stdout);
    if (!type || !mode || !owner) return undefined;
    return {
      type: type === 'regular' ? 'file' : type === 'directory' ? 'dir' : type === 'symlink' ? 'symlink' : 'other',
      mode: parseInt(mode, 8) & 0o7777,
      uid: Number(owner[1]),
      gid: Number(owner[2]),
    };
  }

  /** Names in a directory (without . and ..), or undefined when it does not exist. */
  async list(path: string): Promise<string[] | undefined> {
    if ((await this.stat(path))?.type !== 'dir') return undefined;
    const { stdout } = await execFileP('debugfs', ['-R', `ls -p ${path}`, this.path], { timeout: 60_000 });
    // Lines look like /inode/mode/uid/gid/name/size/
    return stdout
      .split('\n')
      .map((l) => l.split('/')[5])
      .filter((n): n is string => !!n && n !== '.' && n !== '..');
  }

  /** Removes a file from the disk (between boots, to see whether cloud-init writes it again). */
  async remove(path: string): Promise<void> {
    await execFileP('debugfs', ['-w', '-R', `rm ${path}`, this.path], { timeout: 60_000 });
  }

  async dispose(): Promise<void> {
    await rm(this.dir, { recursive: true, force: true });
  }
}
