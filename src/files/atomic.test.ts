import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { rejectionOf } from '../../test/helpers/errors.js';
import { writeFileAtomic } from './atomic.js';

const root = mkdtempSync(join(tmpdir(), 'qks-atomic-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const IS_ROOT = process.getuid?.() === 0;

describe('writeFileAtomic', () => {
  it('writes 0600 by default, whatever the umask, and makes missing parents 0700', async () => {
    const path = join(root, 'a/b/out');
    const old = process.umask(0);
    try {
      await writeFileAtomic(path, 'x');
    } finally {
      process.umask(old);
    }
    expect(readFileSync(path, 'utf8')).toBe('x');
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(statSync(join(root, 'a/b')).mode & 0o777).toBe(0o700);
  });

  it('replaces an existing file, giving it the requested mode (a 0644 kubeconfig becomes 0600)', async () => {
    const path = join(root, 'existing');
    writeFileSync(path, 'old contents, longer than the new');
    chmodSync(path, 0o644);
    await writeFileAtomic(path, 'new');
    expect(readFileSync(path, 'utf8')).toBe('new');
    expect(statSync(path).mode & 0o777).toBe(0o600);
    await writeFileAtomic(path, 'public', { mode: 0o644 });
    expect(statSync(path).mode & 0o777).toBe(0o644);
    expect(readdirSync(root).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('a failed rename (target is a directory) leaves no temp file and the target untouched: OUTPUT_FAILED', async () => {
    const path = join(root, 'isdir');
    mkdirSync(join(path, 'inside'), { recursive: true });
    const e = await rejectionOf(writeFileAtomic(path, 'x'), 'OUTPUT_FAILED');
    expect(e.message).toMatch(/^cannot write .*isdir: E\w+: /);
    expect(e.details).toMatchObject({ path });
    expect(readdirSync(root).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    expect(statSync(join(path, 'inside')).isDirectory()).toBe(true);
  });

  it('an unwritable directory is OUTPUT_PERMISSION (exit 4), not an internal error', async () => {
    // root passes mode checks, so it gets a read-only place instead: /sys (EACCES, or EROFS in containers)
    const ro = join(root, 'ro');
    mkdirSync(ro, { mode: 0o500 });
    const e = await rejectionOf(writeFileAtomic(IS_ROOT ? '/sys/qks-atomic-test' : join(ro, 'f'), 'x'), 'OUTPUT_PERMISSION');
    expect(e.exitCode).toBe(4);
    expect(e.hint).toMatch(/output path you can write/);
  });
});
