import { mkdirSync, mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isQksError } from '../errors.js';
import { rejectionOf } from '../../test/helpers/errors.js';
import { writeFileAtomic, writeFilesAtomic } from './atomic.js';

describe('atomic writes', () => {
  it('replaces a file whole, with mode 0600 even over a file of another mode', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'qks-atomic-'));
    const path = join(dir, 'kubeconfig');
    writeFileSync(path, 'old', { mode: 0o644 });
    await writeFileAtomic(path, 'new');
    expect(readFileSync(path, 'utf8')).toBe('new');
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(readdirSync(dir)).toEqual(['kubeconfig']);
  });

  it('creates missing parent directories 0700', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'qks-atomic-'));
    await writeFileAtomic(join(dir, 'a/b/file'), 'x');
    expect(statSync(join(dir, 'a/b')).mode & 0o777).toBe(0o700);
  });

  it('writes several files all or none: a failure on one leaves every old file and no temporary', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'qks-atomic-'));
    writeFileSync(join(dir, 'user-data'), 'old user-data');
    writeFileSync(join(dir, 'meta-data'), 'old meta-data');
    const blocked = join(dir, 'blocked');
    writeFileSync(blocked, 'a file where a directory is needed');
    const e = await writeFilesAtomic([
      { path: join(dir, 'user-data'), data: 'new user-data' },
      { path: join(dir, 'meta-data'), data: 'new meta-data' },
      { path: join(blocked, 'network-config'), data: 'x' }, // its directory cannot be made
    ]).catch((x: unknown) => x);
    expect(isQksError(e, 'OUTPUT_FAILED')).toBe(true);
    expect(readFileSync(join(dir, 'user-data'), 'utf8')).toBe('old user-data');
    expect(readFileSync(join(dir, 'meta-data'), 'utf8')).toBe('old meta-data');
    expect(readdirSync(dir).sort()).toEqual(['blocked', 'meta-data', 'user-data']);
  });

  it('mode 0600 whatever the umask; an explicit mode is kept over an existing file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'qks-atomic-'));
    const path = join(dir, 'f');
    const old = process.umask(0);
    try {
      await writeFileAtomic(path, 'x');
    } finally {
      process.umask(old);
    }
    expect(statSync(path).mode & 0o777).toBe(0o600);
    await writeFileAtomic(path, 'public', { mode: 0o644 });
    expect(statSync(path).mode & 0o777).toBe(0o644);
  });

  it('a failed rename (the target is a directory): OUTPUT_FAILED naming the errno once, no temporary left', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'qks-atomic-'));
    mkdirSync(join(dir, 'isdir/inside'), { recursive: true });
    const e = await rejectionOf(writeFileAtomic(join(dir, 'isdir'), 'x'), 'OUTPUT_FAILED');
    expect(e.message).toMatch(/^cannot write .*isdir: E[A-Z]+: [a-z]/);
    expect(readdirSync(dir)).toEqual(['isdir']);
  });

  it('an unwritable place is OUTPUT_PERMISSION (exit 4), not an internal error (exit 1)', async () => {
    // root passes mode checks, so it gets a read-only place instead: /sys (EACCES, or EROFS in containers)
    const ro = join(mkdtempSync(join(tmpdir(), 'qks-atomic-')), 'ro');
    mkdirSync(ro, { mode: 0o500 });
    const e = await rejectionOf(writeFileAtomic(process.getuid?.() === 0 ? '/sys/qks-atomic-test' : join(ro, 'f'), 'x'), 'OUTPUT_PERMISSION');
    expect(e.exitCode).toBe(4);
    expect(e.hint).toMatch(/output path you can write/);
  });
});
