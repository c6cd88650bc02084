import { createHash } from 'node:crypto';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildIso } from '../../src/iso/build.js';
import { CLI_BUNDLE, runCli } from '../helpers/cli.js';

const fixtures = fileURLToPath(new URL('../../fixtures/iso/', import.meta.url));
const golden = JSON.parse(readFileSync(join(fixtures, 'golden.json'), 'utf8')) as { files: string[]; epoch: number; label: string; bytes: number; sha256: string };
const seedPaths = golden.files.map((f) => join(fixtures, 'seed', f));
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'qks-iso-cli-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('qemu-kubesolo iso', () => {
  it('documents itself with examples', async () => {
    const r = await runCli(['iso', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('--label');
    expect(r.stdout).toContain('SOURCE_DATE_EPOCH');
    expect(r.stdout).toContain('Examples:');
  });

  it('matches the golden hash in-process and in two separate processes', async () => {
    const inProcess = buildIso(
      golden.files.map((f, i) => ({ path: f, data: readFileSync(seedPaths[i]!) })),
      { epoch: golden.epoch, volumeId: golden.label },
    );
    expect(sha256(inProcess)).toBe(golden.sha256);
    const outs = [join(dir, 'g1.iso'), join(dir, 'g2.iso')];
    // different time zones: every date in the image is UTC
    const zones = ['America/New_York', 'Asia/Tokyo'];
    const runs = await Promise.all(outs.map((o, i) => runCli(['--json', 'iso', '--out', o, ...seedPaths], { env: { SOURCE_DATE_EPOCH: String(golden.epoch), TZ: zones[i] } })));
    for (const [i, r] of runs.entries()) {
      expect(r.code, r.stderr).toBe(0);
      expect(r.json[0]).toMatchObject({ ok: true, path: outs[i], bytes: golden.bytes, sha256: golden.sha256, label: 'cidata', epoch: golden.epoch });
      expect(sha256(readFileSync(outs[i]!))).toBe(golden.sha256);
    }
    expect(statSync(outs[0]!).mode & 0o777).toBe(0o600);
  });

  it('lets --epoch win over SOURCE_DATE_EPOCH and names files with NAME=PATH', async () => {
    const out = join(dir, 'named.iso');
    const r = await runCli(['--json', 'iso', '-o', out, '--epoch', String(golden.epoch), ...golden.files.map((f, i) => `${f}=${seedPaths[i]}`)], { env: { SOURCE_DATE_EPOCH: '5' } });
    expect(r.code, r.stderr).toBe(0);
    expect((r.json[0] as { sha256: string }).sha256).toBe(golden.sha256);
  });

  it('prints the hash and the SELinux commands in text mode', async () => {
    const out = join(dir, "it's.iso");
    const r = await runCli(['iso', '-o', out, '--label', 'CIDATA', '--print-hash', '--selinux', ...seedPaths]);
    expect(r.code, r.stderr).toBe(0);
    const hash = sha256(readFileSync(out));
    expect(r.stdout).toContain(`sha256 ${hash}`);
    expect(r.stdout).toContain(`semanage fcontext -a -t virt_content_t '${dir.replace(/[.]/g, '\\.')}/it'\\''s\\.iso'`);
    expect(r.stdout).toContain(`restorecon -v '${out.replace(/'/g, `'\\''`)}'`);
  });

  it('writes to stdout with --out -', async () => {
    // runCli decodes stdout as text: read the raw bytes here
    const r = spawnSync(process.execPath, [CLI_BUNDLE, 'iso', '-o', '-', '--epoch', String(golden.epoch), ...seedPaths], { env: { ...process.env, NO_COLOR: '1' } });
    expect(r.status, r.stderr.toString()).toBe(0);
    expect(sha256(r.stdout)).toBe(golden.sha256);
    expect(r.stderr.toString()).toContain(`wrote ${golden.bytes} bytes to stdout`);
  });

  it.each([
    [['iso', '-o', 'x.iso', '/no/such/file'], 2, 'INPUT_NOT_FOUND'],
    [['iso', '-o', 'x.iso', '--label', 'has space', 'user-data=EMPTY'], 2, 'CONFIG_INVALID'],
    [['iso', '-o', 'x.iso', '--label', 'x'.repeat(17), 'user-data=EMPTY'], 2, 'CONFIG_INVALID'],
    [['iso', '-o', 'x.iso', '--epoch', 'soon', 'user-data=EMPTY'], 2, 'CONFIG_INVALID'],
    [['iso', '-o', 'x.iso', 'a=EMPTY', 'a=EMPTY'], 2, 'USAGE'],
    [['iso', '-o', 'x.iso', 'a:b=EMPTY'], 2, 'USAGE'],
    [['iso', '-o', 'x.iso', '/tmp'], 2, 'USAGE'],
    // regression: /dev/zero was read until 2 GB of memory; a device is no file
    [['iso', '-o', 'x.iso', 'z=/dev/zero'], 2, 'INPUT_INVALID'],
    [['iso', '-o', 'dir-out/', 'a=EMPTY'], 2, 'OUTPUT_INVALID'],
    [['iso', '-o', 'EMPTY/x.iso', 'a=EMPTY'], 2, 'OUTPUT_INVALID'],
  ])('fails cleanly: %j', async (args, code, errorCode) => {
    writeFileSync(join(dir, 'EMPTY'), '');
    const r = await runCli(['--json', ...args.map((a) => a.replace('EMPTY', join(dir, 'EMPTY')))], { cwd: dir });
    expect(r.code).toBe(code);
    expect(r.json[0]).toMatchObject({ ok: false, error: { code: errorCode } });
    expect(r.stderr).toMatch(/^error: /);
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
  });

  it('says which variable is wrong when SOURCE_DATE_EPOCH is bad', async () => {
    const r = await runCli(['iso', '-o', join(dir, 'e.iso'), seedPaths[0]!], { env: { SOURCE_DATE_EPOCH: '-3' } });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('SOURCE_DATE_EPOCH');
  });

  it('needs --out and at least one file', async () => {
    expect((await runCli(['iso', seedPaths[0]!])).code).toBe(2);
    expect((await runCli(['iso', '-o', join(dir, 'n.iso')])).code).toBe(2);
  });

  describe('odd inputs and outputs', () => {
    const seed = () => {
      const f = join(mkdtempSync(join(dir, 'in-')), 'user-data');
      writeFileSync(f, '#cloud-config\n');
      return f;
    };

    it.runIf(process.getuid?.() === 0)('-o onto a character device writes into it and leaves the node; a block device is refused', async () => {
      const d = mkdtempSync(join(dir, 'nodes-'));
      execFileSync('mknod', [join(d, 'null'), 'c', '1', '3']);
      execFileSync('mknod', [join(d, 'loop'), 'b', '7', '0']);
      const ok = await runCli(['iso', '-o', join(d, 'null'), seed()]);
      expect(ok.code, ok.stderr).toBe(0);
      expect(lstatSync(join(d, 'null')).isCharacterDevice()).toBe(true);
      const bad = await runCli(['--json', 'iso', '-o', join(d, 'loop'), seed()]);
      expect(bad.code).toBe(2);
      expect(bad.json[0]).toMatchObject({ ok: false, error: { code: 'OUTPUT_INVALID' } });
      expect(lstatSync(join(d, 'loop')).isBlockDevice()).toBe(true);
      expect(readdirSync(d).sort()).toEqual(['loop', 'null']);
    });

    it('-o /dev/stdout streams the image (stdout a socket here) as -o - does; -o onto a directory is exit 2 naming it', async () => {
      const r = spawnSync(process.execPath, [CLI_BUNDLE, 'iso', '-o', '/dev/stdout', '--epoch', String(golden.epoch), ...seedPaths]);
      expect(r.status, r.stderr.toString()).toBe(0);
      expect(sha256(r.stdout)).toBe(golden.sha256);
      const d = mkdtempSync(join(dir, 'isdir-'));
      mkdirSync(join(d, 'cidata.iso'));
      const bad = await runCli(['iso', '-o', join(d, 'cidata.iso'), seed()]);
      expect(bad.code).toBe(2);
      expect(bad.stderr).toContain(`cannot write ${join(d, 'cidata.iso')}: it is a directory`);
      expect(bad.stderr).not.toMatch(/\n\s+at /);
    });

    it('a FIFO as an input that nobody writes stops on SIGTERM with exit 130 (it hung and ignored signals)', async () => {
      const fifo = join(mkdtempSync(join(dir, 'fifo-')), 'user-data');
      execFileSync('mkfifo', [fifo]);
      const child = spawn(process.execPath, [CLI_BUNDLE, 'iso', '-o', join(dir, 'never.iso'), fifo], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stderr = '';
      child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
      await new Promise((r) => setTimeout(r, 1500));
      child.kill('SIGTERM');
      const code = await new Promise((r) => child.on('close', (c) => r(c)));
      expect(code, stderr).toBe(130);
      expect(stderr).toMatch(/interrupted/);
    });

    it('a pipe as an input is read to its end: iso user-data=<(command)', async () => {
      const out = join(mkdtempSync(join(dir, 'pipe-')), 'seed.iso');
      const r = spawnSync('bash', ['-c', `"${process.execPath}" "${CLI_BUNDLE}" --json iso -o "${out}" user-data=<(printf '#cloud-config\\n')`], { encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout)).toMatchObject({ ok: true, files: [{ name: 'user-data', bytes: 14 }] });
    });
  });
});
