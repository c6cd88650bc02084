import { execFileSync, spawn } from 'node:child_process';
import { closeSync, lchownSync, lstatSync, mkdirSync, openSync, writeSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isQksError } from '../errors.js';
import { rejectionOf } from '../../test/helpers/errors.js';
import { isOwnStdout, writeFileAtomic, writeFilesAtomic } from './atomic.js';

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
    expect(isQksError(e, 'OUTPUT_INVALID')).toBe(true);
    expect(readFileSync(join(dir, 'user-data'), 'utf8')).toBe('old user-data');
    expect(readFileSync(join(dir, 'meta-data'), 'utf8')).toBe('old meta-data');
    expect(readdirSync(dir).sort()).toEqual(['blocked', 'meta-data', 'user-data']);
  });

  it('a write that fails while the others succeed: every temporary is removed, every old file kept', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'qks-atomic-'));
    writeFileSync(join(dir, 'user-data'), 'old user-data');
    const e = await writeFilesAtomic([
      { path: join(dir, 'cidata.iso'), data: new Uint8Array(64 * 1024) },
      { path: join(dir, 'user-data'), data: 42 as unknown as string }, // not data: its temporary is opened, then the write throws
    ]).catch((x: unknown) => x);
    expect(isQksError(e)).toBe(true);
    expect(readFileSync(join(dir, 'user-data'), 'utf8')).toBe('old user-data');
    expect(readdirSync(dir)).toEqual(['user-data']);
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

  it('a directory where the file should be: OUTPUT_INVALID (exit 2) naming the path, no temporary left', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'qks-atomic-'));
    mkdirSync(join(dir, 'isdir/inside'), { recursive: true });
    const e = await rejectionOf(writeFileAtomic(join(dir, 'isdir'), 'x'), 'OUTPUT_INVALID');
    expect(e.exitCode).toBe(2);
    expect(e.message).toMatch(/^cannot write .*isdir: it is a directory/);
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

  describe('outputs that are not regular files (regression: /dev/null became a file)', () => {
    // device nodes are made in the test's own directory (mknod needs root or CAP_MKNOD), never the host's /dev
    const canMknod = process.getuid?.() === 0;
    const fresh = () => mkdtempSync(join(tmpdir(), 'qks-atomic-nodes-'));
    const mknod = (path: string, type: 'c' | 'b', major: number, minor: number) => execFileSync('mknod', [path, type, String(major), String(minor)]);

    it.runIf(canMknod)('a character device is written to, never replaced: a null device stays one', async () => {
      const dir = fresh();
      const dev = join(dir, 'null');
      mknod(dev, 'c', 1, 3);
      await writeFileAtomic(dev, 'kubeconfig bytes');
      expect(lstatSync(dev).isCharacterDevice()).toBe(true);
      expect(readdirSync(dir)).toEqual(['null']);
    });

    it.runIf(canMknod)('a full device: OUTPUT_FAILED naming ENOSPC, the node stays', async () => {
      const dir = fresh();
      const dev = join(dir, 'full');
      mknod(dev, 'c', 1, 7);
      const e = await rejectionOf(writeFileAtomic(dev, 'x'), 'OUTPUT_FAILED');
      expect(e.message).toMatch(/ENOSPC/);
      expect(lstatSync(dev).isCharacterDevice()).toBe(true);
    });

    it.runIf(canMknod)('a block device is refused (exit 2), nothing touched', async () => {
      const dir = fresh();
      const dev = join(dir, 'loop');
      mknod(dev, 'b', 7, 0);
      const e = await rejectionOf(writeFileAtomic(dev, 'x'), 'OUTPUT_INVALID');
      expect(e.exitCode).toBe(2);
      expect(e.message).toMatch(/block device/);
      expect(lstatSync(dev).isBlockDevice()).toBe(true);
      expect(readdirSync(dir)).toEqual(['loop']);
    });

    it('a FIFO with a reader is written as a stream; without one it is refused at once, not a hang', async () => {
      const dir = fresh();
      const fifo = join(dir, 'fifo');
      execFileSync('mkfifo', [fifo]);
      const none = await rejectionOf(writeFileAtomic(fifo, 'x'), 'OUTPUT_INVALID');
      expect(none.message).toMatch(/no reader/);
      const reader = spawn('cat', [fifo]);
      let got = '';
      reader.stdout.setEncoding('utf8').on('data', (d: string) => (got += d));
      const closed = new Promise((r) => reader.on('close', r));
      // the reader opens the FIFO asynchronously: retry until it is there (bounded)
      for (let i = 0; ; i++) {
        const e = await writeFileAtomic(fifo, 'through the pipe\n').then(() => undefined, (x: unknown) => x);
        if (!e) break;
        if (i > 100 || !isQksError(e, 'OUTPUT_INVALID')) throw e;
        await new Promise((r) => setTimeout(r, 50));
      }
      await closed;
      expect(got).toBe('through the pipe\n');
      expect(lstatSync(fifo).isFIFO()).toBe(true);
    });

    it('a unix socket and a path ending in "/" are refused; a file as a parent is OUTPUT_INVALID naming the path', async () => {
      const dir = fresh();
      const sock = join(dir, 'sock');
      const server = createServer();
      await new Promise<void>((r) => server.listen(sock, r));
      try {
        expect((await rejectionOf(writeFileAtomic(sock, 'x'), 'OUTPUT_INVALID')).message).toMatch(/socket/);
      } finally {
        server.close();
      }
      writeFileSync(join(dir, 'file'), 'keep');
      expect((await rejectionOf(writeFileAtomic(join(dir, 'new') + '/', 'x'), 'OUTPUT_INVALID')).message).toMatch(/ends with "\/"/);
      const e = await rejectionOf(writeFileAtomic(join(dir, 'file', 'kubeconfig'), 'x'), 'OUTPUT_INVALID');
      expect(e.message).toContain(join(dir, 'file', 'kubeconfig'));
      expect(e.exitCode).toBe(2);
      expect(readFileSync(join(dir, 'file'), 'utf8')).toBe('keep');
    });

    it('a symlink is followed: its target is replaced atomically and the link stays; a dangling link is refused', async () => {
      const dir = fresh();
      mkdirSync(join(dir, 'real'));
      writeFileSync(join(dir, 'real', 'config'), 'old');
      symlinkSync(join(dir, 'real', 'config'), join(dir, 'link'));
      await writeFileAtomic(join(dir, 'link'), 'new');
      expect(lstatSync(join(dir, 'link')).isSymbolicLink()).toBe(true);
      expect(readlinkSync(join(dir, 'link'))).toBe(join(dir, 'real', 'config'));
      expect(readFileSync(join(dir, 'real', 'config'), 'utf8')).toBe('new');
      expect(readdirSync(join(dir, 'real'))).toEqual(['config']);
      symlinkSync(join(dir, 'nowhere'), join(dir, 'dangling'));
      expect((await rejectionOf(writeFileAtomic(join(dir, 'dangling'), 'x'), 'OUTPUT_INVALID')).message).toMatch(/does not exist/);
      expect(readdirSync(dir).sort()).toEqual(['dangling', 'link', 'real']);
    });

    it('an open-file link (/dev/fd/N) onto a regular file appends to it in place: what was written before stays', async () => {
      const path = join(fresh(), 'out.txt');
      const fd = openSync(path, 'a');
      try {
        writeSync(fd, 'header\n');
        const ino = statSync(path).ino;
        await writeFileAtomic(`/dev/fd/${fd}`, 'data\n');
        expect(readFileSync(path, 'utf8')).toBe('header\ndata\n');
        expect(statSync(path).ino).toBe(ino); // not replaced
      } finally {
        closeSync(fd);
      }
    });

    it.runIf(canMknod)('a symlink owned by another user is not followed (a planted link cannot aim root at a file)', async () => {
      const dir = fresh();
      writeFileSync(join(dir, 'victim'), 'keep');
      symlinkSync(join(dir, 'victim'), join(dir, 'planted'));
      lchownSync(join(dir, 'planted'), 4321, 4321);
      const e = await rejectionOf(writeFileAtomic(join(dir, 'planted'), 'x'), 'OUTPUT_INVALID');
      expect(e.message).toMatch(/owned by another user \(uid 4321\)/);
      expect(readFileSync(join(dir, 'victim'), 'utf8')).toBe('keep');
    });

    it('several files as one step refuse a FIFO among them, before anything is written', async () => {
      const dir = fresh();
      writeFileSync(join(dir, 'user-data'), 'old');
      execFileSync('mkfifo', [join(dir, 'meta-data')]);
      await rejectionOf(
        writeFilesAtomic([
          { path: join(dir, 'user-data'), data: 'new' },
          { path: join(dir, 'meta-data'), data: 'new' },
        ]),
        'OUTPUT_INVALID',
      );
      expect(readFileSync(join(dir, 'user-data'), 'utf8')).toBe('old');
      expect(lstatSync(join(dir, 'meta-data')).isFIFO()).toBe(true);
    });
  });

  // the CLI's one-VM kubeconfig (src/files/fs.ts blockingFs): the same checks and outcomes, without the thread pool
  describe('blocking: the same outcomes, no thread-pool request', () => {
    const blocking = { blocking: true } as const;
    const pending = () => process.getActiveResourcesInfo().filter((r) => r === 'FSReqCallback').length;

    it('replaces a file whole (0600, parents 0700), and makes no fs request the event loop would wait for', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'qks-atomic-blocking-'));
      const path = join(dir, 'a/kubeconfig');
      mkdirSync(join(dir, 'a'), { mode: 0o700 });
      writeFileSync(path, 'old', { mode: 0o644 });
      const before = pending();
      const threaded = writeFileAtomic(join(dir, 'b/other'), 'x');
      expect(pending()).toBeGreaterThan(before); // the threaded form: a request in flight
      await threaded;
      const write = writeFileAtomic(path, 'new', blocking);
      expect(pending()).toBe(before);
      await write;
      expect(readFileSync(path, 'utf8')).toBe('new');
      expect(statSync(path).mode & 0o777).toBe(0o600);
      await writeFileAtomic(join(dir, 'c/d/file'), 'x', blocking);
      expect(statSync(join(dir, 'c/d')).mode & 0o777).toBe(0o700);
      expect(readdirSync(join(dir, 'a'))).toEqual(['kubeconfig']);
    });

    it('refuses what the threaded form refuses, with the same codes, nothing touched', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'qks-atomic-blocking-'));
      mkdirSync(join(dir, 'isdir'));
      expect((await rejectionOf(writeFileAtomic(join(dir, 'isdir'), 'x', blocking), 'OUTPUT_INVALID')).message).toMatch(/is a directory/);
      symlinkSync(join(dir, 'nowhere'), join(dir, 'dangling'));
      expect((await rejectionOf(writeFileAtomic(join(dir, 'dangling'), 'x', blocking), 'OUTPUT_INVALID')).message).toMatch(/does not exist/);
      writeFileSync(join(dir, 'file'), 'keep');
      expect((await rejectionOf(writeFileAtomic(join(dir, 'file', 'kubeconfig'), 'x', blocking), 'OUTPUT_INVALID')).exitCode).toBe(2);
      const ro = join(dir, 'ro');
      mkdirSync(ro, { mode: 0o500 });
      expect((await rejectionOf(writeFileAtomic(process.getuid?.() === 0 ? '/sys/qks-atomic-test' : join(ro, 'f'), 'x', blocking), 'OUTPUT_PERMISSION')).exitCode).toBe(4);
      expect(readdirSync(dir).sort()).toEqual(['dangling', 'file', 'isdir', 'ro']);
      expect(readFileSync(join(dir, 'file'), 'utf8')).toBe('keep');
    });

    it('follows a symlink to its target, appends through /dev/fd/N, and still writes a FIFO as a stream', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'qks-atomic-blocking-'));
      writeFileSync(join(dir, 'config'), 'old');
      symlinkSync(join(dir, 'config'), join(dir, 'link'));
      await writeFileAtomic(join(dir, 'link'), 'new', blocking);
      expect(lstatSync(join(dir, 'link')).isSymbolicLink()).toBe(true);
      expect(readFileSync(join(dir, 'config'), 'utf8')).toBe('new');
      const fd = openSync(join(dir, 'out'), 'a');
      try {
        writeSync(fd, 'header\n');
        await writeFileAtomic(`/dev/fd/${fd}`, 'data\n', blocking);
        expect(readFileSync(join(dir, 'out'), 'utf8')).toBe('header\ndata\n');
      } finally {
        closeSync(fd);
      }
      const fifo = join(dir, 'fifo');
      execFileSync('mkfifo', [fifo]);
      expect((await rejectionOf(writeFileAtomic(fifo, 'x', blocking), 'OUTPUT_INVALID')).message).toMatch(/no reader/);
      const reader = spawn('cat', [fifo]);
      let got = '';
      reader.stdout.on('data', (d: Buffer) => (got += d.toString()));
      const closed = new Promise((r) => reader.on('close', r));
      for (let i = 0; i < 200; i++) {
        try {
          await writeFileAtomic(fifo, 'through the pipe', blocking);
          break;
        } catch {
          await new Promise((r) => setTimeout(r, 10)); // the reader has not opened it yet
        }
      }
      await closed;
      expect(got).toBe('through the pipe');
    });

    it('isOwnStdout answers the same either way', async () => {
      for (const o of [{}, blocking]) {
        expect(await isOwnStdout('/dev/stdout', o)).toBe(true);
        expect(await isOwnStdout('/proc/self/fd/1', o)).toBe(true);
        expect(await isOwnStdout(join(tmpdir(), 'qks-not-stdout'), o)).toBe(false);
      }
    });
  });
});
