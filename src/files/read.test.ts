import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { rejectionOf } from '../../test/helpers/errors.js';
import { INPUT_CAPS, readInput, readInputText } from './read.js';

const fresh = () => mkdtempSync(join(tmpdir(), 'qks-read-'));

describe('bounded input reader (regression: a FIFO hung forever, /dev/zero ate 2 GB)', () => {
  it('reads a regular file', async () => {
    const p = join(fresh(), 'key.pub');
    writeFileSync(p, 'ssh-ed25519 AAAA\n');
    expect(await readInputText(p, 'sshKey', { what: '--ssh-key' })).toBe('ssh-ed25519 AAAA\n');
  });

  it('refuses a file above its cap before reading it', async () => {
    const p = join(fresh(), 'big');
    writeFileSync(p, Buffer.alloc(INPUT_CAPS.sshKey + 1, 0x41));
    const e = await rejectionOf(readInput(p, 'sshKey', { what: '--ssh-key' }), 'INPUT_INVALID');
    expect(e.message).toMatch(/larger than 65536 bytes/);
    expect(e.exitCode).toBe(2);
  });

  it('refuses a character device without reading it (/dev/zero is read-only-safe to name)', async () => {
    const e = await rejectionOf(readInput('/dev/zero', 'sshKey', { what: '--ssh-key (SSH_PUBLIC_KEY)' }), 'INPUT_INVALID');
    expect(e.message).toBe('--ssh-key (SSH_PUBLIC_KEY): /dev/zero is a character device, not a regular file');
  });

  it.runIf(process.getuid?.() === 0)('refuses a block device made in its own directory', async () => {
    const dev = join(fresh(), 'loop');
    execFileSync('mknod', [dev, 'b', '7', '0']);
    expect((await rejectionOf(readInput(dev, 'isoFile', { what: 'input' }), 'INPUT_INVALID')).message).toMatch(/block device/);
  });

  it('refuses a directory; a missing file is INPUT_NOT_FOUND', async () => {
    const dir = fresh();
    expect((await rejectionOf(readInput(dir, 'template', { what: 'template' }), 'INPUT_INVALID')).message).toMatch(/is a directory/);
    await rejectionOf(readInput(join(dir, 'nope'), 'template', { what: 'template' }), 'INPUT_NOT_FOUND');
  });

  it('reads a pipe to its end, and stops one that passes the cap', async () => {
    const dir = fresh();
    const fifo = join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    const writer = spawn('sh', ['-c', `printf 'from a pipe' > '${fifo}'`]);
    const written = new Promise((r) => writer.on('close', r));
    expect(await readInputText(fifo, 'sshKey', { what: '--ssh-key' })).toBe('from a pipe');
    await written;
    const flood = spawn('sh', ['-c', `head -c 1000000 /dev/zero > '${fifo}'`]);
    flood.on('error', () => {});
    expect((await rejectionOf(readInput(fifo, 'sshKey', { what: '--ssh-key' }), 'INPUT_INVALID')).message).toMatch(/larger than/);
    flood.kill();
  });

  it('a FIFO nobody writes: bounded by the timeout, and an abort stops it at once (exit 130)', async () => {
    const fifo = join(fresh(), 'fifo');
    execFileSync('mkfifo', [fifo]);
    const t = await rejectionOf(readInput(fifo, 'template', { what: 'template', timeoutMs: 300 }), 'INPUT_TIMEOUT');
    expect(t.exitCode).toBe(5);
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 100);
    const started = performance.now();
    const e = await rejectionOf(readInput(fifo, 'template', { what: 'template', signal: ac.signal }), 'INTERRUPTED');
    expect(e.exitCode).toBe(130);
    expect(performance.now() - started).toBeLessThan(10_000); // generous: the default bound is 30 s
  });
});
