// stdout that cannot take the output (regression: `> /dev/full` printed a raw stack trace, a closed pipe
// lost the output with exit 0). Runs the bundle as a process, as users do.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI_BUNDLE } from '../helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'qks-stdout-'));
const input = join(dir, 'user-data');
writeFileSync(input, `#cloud-config\n${'#'.repeat(200_000)}\n`); // an image larger than a pipe's buffer
const sh = (script: string) => spawnSync('bash', ['-c', script], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1', CLI: CLI_BUNDLE, IN: input } });

describe('stdout failures', () => {
  it('> /dev/full: a clean error and exit 1, no stack trace', () => {
    const r = sh('node "$CLI" iso -o - "$IN" > /dev/full');
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('error: cannot write to stdout: ENOSPC');
    expect(r.stderr).toContain('[STDOUT_FAILED]');
    expect(r.stderr).not.toMatch(/\n\s+at |node:internal/);
  });

  it('> /dev/full with --json: the JSON error goes to stderr, the one stream left', () => {
    const r = sh('node "$CLI" --json domain-xml --name vm1 --disk /var/lib/vm1.qcow2 > /dev/full');
    expect(r.status).toBe(1);
    const json = r.stderr.split('\n').find((l) => l.startsWith('{'));
    expect(JSON.parse(json!)).toMatchObject({ ok: false, error: { code: 'STDOUT_FAILED', details: { errno: 'ENOSPC' } } });
  });

  it('a reader that closes the pipe early: exit 141 (as SIGPIPE), not a silent 0; quiet unless --verbose', () => {
    const r = sh('node "$CLI" iso -o - "$IN" | true; echo "status=${PIPESTATUS[0]}" >&2');
    expect(r.stderr).toContain('status=141');
    expect(r.stderr).not.toContain('STDOUT_CLOSED');
    const v = sh('node "$CLI" -v iso -o - "$IN" | true');
    expect(v.stderr).toContain('[STDOUT_CLOSED]');
    expect(v.stderr).not.toMatch(/\n\s+at /);
  });

  it('--help into /dev/full fails too (exit 1), quietly about the cause only', () => {
    const r = sh('node "$CLI" --help > /dev/full');
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('[STDOUT_FAILED]');
  });
});
