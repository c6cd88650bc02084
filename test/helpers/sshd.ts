/**
 * A real sshd for the remote tests: its own config, host key, authorized key and known_hosts in a temp
 * dir, on 127.0.0.1 and a free port, run as root (so the tests log in as root). The client side gets
 * its own ssh_config (QKS_SSH_CONFIG) so the user's ~/.ssh is never read or written.
 * Plus real `qemu-ga -m unix-listen` sockets laid out as libvirt lays them under a temp root.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { processAlive as alive } from '../../src/ssh/index.js'; // the daemonized sshd is not our child: zombies count as gone

// (not ../helpers/peers.js: that imports vitest, and bench/remote.bench.ts uses this harness outside it)
function which(cmd: string): string | undefined {
  for (const d of [...(process.env.PATH ?? '').split(':'), '/usr/sbin', '/sbin', '/usr/bin', '/bin']) if (d && existsSync(`${d}/${cmd}`)) return `${d}/${cmd}`;
  return undefined;
}
function sh(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: 'utf8', timeout: 60_000, stdio: ['ignore', 'pipe', 'pipe'] });
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** Polls `cond` every few ms until true or `boundMs` passes (no fixed sleeps). */
export async function waitFor(cond: () => boolean | Promise<boolean>, boundMs: number, what: string): Promise<void> {
  const until = Date.now() + boundMs;
  while (!(await cond())) {
    if (Date.now() > until) throw new Error(`timed out after ${boundMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

function tcpOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const c = createConnection({ host: '127.0.0.1', port });
    c.once('connect', () => (c.destroy(), resolve(true)));
    c.once('error', () => resolve(false));
  });
}

export interface TestSshd {
  dir: string;
  port: number;
  /** The accepted private key. */
  key: string;
  /** A key sshd does not accept. */
  badKey: string;
  /** ssh_config with our known_hosts (host key known). */
  config: string;
  /** ssh_config with an empty known_hosts (host key unknown). */
  configUnknownHost: string;
  /** A qemu+ssh URI to this sshd (root unless `user`). */
  uri(opts?: { key?: string; params?: string; user?: string }): string;
  stop(): Promise<void>;
}

export interface SshdOptions {
  /**
   * Sessions get a PATH of their own (SetEnv) with only sh, nc and grep: a far side without
   * virt-ssh-helper, as older hosts are, for the netcat path of qemu+ssh to libvirtd.
   */
  withoutVirtSshHelper?: boolean;
}

export async function startSshd(options: SshdOptions = {}): Promise<TestSshd> {
  const dir = mkdtempSync(join(tmpdir(), 'qks-h-sshd-'));
  // sshd reads authorized_keys as the user logging in (the libvirt-group test user too)
  chmodSync(dir, 0o755);
  const extra: string[] = [];
  if (options.withoutVirtSshHelper) {
    const bin = join(dir, 'bin');
    mkdirSync(bin);
    for (const c of ['sh', 'nc', 'grep']) {
      const target = which(c);
      if (target) symlinkSync(target, join(bin, c));
    }
    chmodSync(dir, 0o755);
    extra.push(`SetEnv PATH=${bin}`);
  }
  for (const k of ['host', 'user', 'bad']) sh('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', `qks-test-${k}`, '-f', join(dir, k)]);
  writeFileSync(join(dir, 'authorized_keys'), readFileSync(join(dir, 'user.pub')));
  const port = await freePort();
  const sshdPath = which('sshd')!;
  writeFileSync(
    join(dir, 'sshd_config'),
    [
      `Port ${port}`,
      'ListenAddress 127.0.0.1',
      `HostKey ${dir}/host`,
      `PidFile ${dir}/sshd.pid`,
      `AuthorizedKeysFile ${dir}/authorized_keys`,
      'PermitRootLogin prohibit-password',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'UsePAM no',
      'AllowStreamLocalForwarding yes',
      'StrictModes no',
      'MaxSessions 100',
      'MaxStartups 100',
      'LogLevel ERROR',
      ...extra,
      '',
    ].join('\n'),
  );
  // sshd's privilege-separation dir (what Debian's unit creates at boot)
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  const hostPub = readFileSync(join(dir, 'host.pub'), 'utf8').split(' ').slice(0, 2).join(' ');
  writeFileSync(join(dir, 'known_hosts'), `[127.0.0.1]:${port} ${hostPub}\n`);
  writeFileSync(join(dir, 'known_hosts.empty'), '');
  const clientConfig = (kh: string) =>
    ['Host *', `  UserKnownHostsFile ${kh}`, '  GlobalKnownHostsFile /dev/null', '  IdentitiesOnly yes', '  IdentityAgent none', '  LogLevel ERROR', ''].join('\n');
  writeFileSync(join(dir, 'ssh_config'), clientConfig(join(dir, 'known_hosts')));
  writeFileSync(join(dir, 'ssh_config.unknown'), clientConfig(join(dir, 'known_hosts.empty')));
  sh(sshdPath, ['-f', join(dir, 'sshd_config'), '-E', join(dir, 'sshd.log')]);
  await waitFor(() => tcpOpen(port), 10_000, 'sshd to listen');
  const pid = Number(readFileSync(join(dir, 'sshd.pid'), 'utf8').trim());
  return {
    dir,
    port,
    key: join(dir, 'user'),
    badKey: join(dir, 'bad'),
    config: join(dir, 'ssh_config'),
    configUnknownHost: join(dir, 'ssh_config.unknown'),
    uri: (o = {}) => `qemu+ssh://${o.user ?? 'root'}@127.0.0.1:${port}/system?keyfile=${encodeURIComponent(o.key ?? join(dir, 'user'))}${o.params ? `&${o.params}` : ''}`,
    async stop() {
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        // gone
      }
      await waitFor(() => !alive(pid), 5_000, 'sshd to exit');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}



/** A real qemu-ga listening on `socketPath` (parent dirs created), as libvirt's socket would be. */
export async function startQemuGa(socketPath: string): Promise<{ socketPath: string; proc: ChildProcess; stop(): Promise<void> }> {
  mkdirSync(dirname(socketPath), { recursive: true });
  const state = mkdtempSync(join(tmpdir(), 'qks-h-ga-'));
  const proc = spawn(which('qemu-ga')!, ['-m', 'unix-listen', '-p', socketPath, '-t', state], { stdio: 'ignore' });
  await waitFor(() => existsSync(socketPath), 10_000, `qemu-ga socket ${socketPath}`);
  return {
    socketPath,
    proc,
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) {
        const gone = new Promise((r) => proc.once('exit', r));
        proc.kill('SIGTERM');
        await gone;
      }
      rmSync(state, { recursive: true, force: true });
    },
  };
}

/** Processes whose command line contains `needle` (pgrep -f), excluding pgrep itself. */
export function processesMatching(needle: string): string[] {
  try {
    return sh('pgrep', ['-af', '--', needle]).split('\n').filter((l) => l.trim() && !l.includes('pgrep'));
  } catch {
    return [];
  }
}
