import { mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isQksError } from '../errors.js';
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
});
