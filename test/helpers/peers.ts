/**
 * Tests that need a real peer (qemu-ga, isoinfo, libvirtd, a VM ...) declare it here. On a developer's
 * machine a missing peer skips the suite with a printed reason; under CI=true it fails the suite, so a
 * green CI always means the peer was there and the test ran.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, it } from 'vitest';

export const IN_CI = process.env.CI === 'true' || process.env.CI === '1';

/** True when the current user is root (libvirtd, chmod-000 tests and VMs need it). */
export const IS_ROOT = process.getuid?.() === 0;

/** Absolute path of a command on PATH (where the tests' spawn will look for it), or undefined. */
export function which(cmd: string): string | undefined {
  const dirs = (process.env.PATH ?? '').split(':');
  for (const d of dirs) if (d && existsSync(`${d}/${cmd}`)) return `${d}/${cmd}`;
  return undefined;
}

/** Why the peer cannot be used, or undefined when every command is there and `check` passes. */
function missingPeer(commands: string[], check?: () => string | undefined): string | undefined {
  const missing = commands.filter((c) => !which(c));
  if (missing.length) return `missing ${missing.join(', ')} (install with: npm run test:deps)`;
  return check?.();
}

/**
 * `describe` for a suite that needs peers: runs when they are present; otherwise skips with a printed
 * reason, or under CI fails with that reason.
 */
export function describeWithPeers(name: string, commands: string[], fn: () => void, check?: () => string | undefined): void {
  const reason = missingPeer(commands, check);
  if (reason && IN_CI) {
    describe(name, () => {
      it('has its peers (required under CI)', () => {
        throw new Error(`${name}: ${reason}`);
      });
    });
    return;
  }
  if (reason) console.warn(`[skip] ${name}: ${reason}`);
  describe.skipIf(reason !== undefined)(name, fn);
}

/** Runs a command and returns its stdout; throws (with stderr in the message) on failure. */
export function sh(cmd: string, args: string[], opts: { input?: string | Buffer; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): string {
  return execFileSync(cmd, args, {
    input: opts.input,
    timeout: opts.timeoutMs ?? 60_000,
    encoding: 'utf8',
    env: opts.env ?? process.env,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
}
