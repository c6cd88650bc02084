/**
 * Seeds for the cloud-init VM tier: made by our own tool (`qemu-kubesolo artifacts --create-iso`, run
 * as a process), and broken look-alikes made by genisoimage for the negative tests.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { runCli } from '../../helpers/cli.js';

const execFileP = promisify(execFile);

/** A throw-away ed25519 public key (its private half was never kept). */
export const TEST_SSH_KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGa1q4auB08diDWz3pk9vQRYyR4wZII6xqHnXNr8ONf+ qks-vm-test';

export interface Seed {
  dir: string;
  iso: string;
  userData: string;
  metaData: string;
  networkConfig?: string;
  instanceId: string;
  /** The `write_files` entries of the user-data, by path. */
  writeFiles: Map<string, { content: string; permissions?: string; owner?: string }>;
}

const dirs: string[] = [];

/** Runs `qemu-kubesolo artifacts --create-iso` with `args` into a fresh directory and reads what it wrote. */
export async function seedFromTool(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Seed> {
  const dir = await mkdtemp(join(tmpdir(), 'qks-vm-seed-'));
  dirs.push(dir);
  const out = join(dir, 'artifacts');
  // A clean environment (no VM_* or AUTO_INSTALL_* from the runner) and HOME away from its keys.
  const r = await runCli(['artifacts', '--json', '--create-iso', '--output-dir', out, ...args], {
    cleanEnv: true,
    env: { HOME: dir, ...env },
  });
  if (r.code !== 0) throw new Error(`qemu-kubesolo artifacts ${args.join(' ')} exited ${r.code}:\n${r.stderr}`);
  const read = (name: string): string | undefined => {
    try {
      return readFileSync(join(out, name), 'utf8');
    } catch {
      return undefined;
    }
  };
  const userData = read('user-data') ?? '';
  const metaData = read('meta-data') ?? '';
  const ud = parse(userData) as { write_files?: Array<{ path: string; content: string; permissions?: string; owner?: string }> };
  const md = parse(metaData) as { 'instance-id': string };
  return {
    dir: out,
    iso: join(out, 'cidata.iso'),
    userData,
    metaData,
    networkConfig: read('network-config'),
    instanceId: md['instance-id'],
    writeFiles: new Map((ud.write_files ?? []).map((f) => [f.path, f])),
  };
}

/**
 * An ISO of the given seed files made by genisoimage, for the negative tests: `extensions: false`
 * leaves out Joliet and Rock Ridge (names become 8.3: user_dat), `label` sets the volume id.
 */
export async function seedWithGenisoimage(from: Seed, opts: { label: string; extensions: boolean }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'qks-vm-badseed-'));
  dirs.push(dir);
  const iso = join(dir, 'seed.iso');
  const names = ['user-data', 'meta-data', ...(from.networkConfig !== undefined ? ['network-config'] : [])];
  await execFileP('genisoimage', ['-quiet', ...(opts.extensions ? ['-J', '-r'] : []), '-V', opts.label, '-o', iso, ...names.map((n) => join(from.dir, n))], {
    timeout: 60_000,
  });
  return iso;
}

/** The volume label as blkid (libblkid, what udev and cloud-init's label lookup use) reads it. */
export async function isoLabel(iso: string): Promise<string> {
  const { stdout } = await execFileP('blkid', ['-o', 'value', '-s', 'LABEL', iso], { timeout: 30_000 });
  return stdout.trim();
}

export async function removeSeeds(): Promise<void> {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
}

/** `openssl passwd -6 -salt SALT` of the password equals the `$6$SALT$...` hash (an independent crypt). */
export function opensslVerifies(hash: string, password: string): Promise<boolean> {
  const salt = /^\$6\$([^$]+)\$/.exec(hash)?.[1];
  // openssl cannot take a rounds= prefix; the tool writes the default rounds, so that would be a finding.
  if (!salt || salt.startsWith('rounds=')) return Promise.resolve(false);
  return new Promise((resolve, reject) => {
    const child = execFile('openssl', ['passwd', '-6', '-salt', salt, '-stdin'], { timeout: 30_000 }, (err, out) => {
      if (err) reject(err);
      else resolve(out.trim() === hash);
    });
    child.stdin?.end(`${password}\n`);
  });
}
