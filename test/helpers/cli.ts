/**
 * Runs the CLI as a user would: a separate `node` process on the single-file bundle that globalSetup
 * built (test/global-setup.ts), with the given arguments, environment and stdin.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const CLI_BUNDLE = fileURLToPath(new URL('../../.cache/test-build/qemu-kubesolo.mjs', import.meta.url));

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** stdout parsed as JSON lines (for --json runs); empty when stdout is not JSON. */
  json: unknown[];
  ms: number;
}

export interface CliOptions {
  env?: NodeJS.ProcessEnv;
  /** Replace the environment entirely instead of extending process.env. */
  cleanEnv?: boolean;
  input?: string;
  cwd?: string;
  timeoutMs?: number;
}

export function runCli(args: string[], opts: CliOptions = {}): Promise<CliResult> {
  const started = performance.now();
  const env = opts.cleanEnv ? { PATH: process.env.PATH, ...opts.env } : { ...process.env, NO_COLOR: '1', ...opts.env };
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI_BUNDLE, ...args], { env, cwd: opts.cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const json: unknown[] = [];
      for (const line of stdout.split('\n')) {
        if (!line.trim()) continue;
        try {
          json.push(JSON.parse(line));
        } catch {
          json.length = 0;
          break;
        }
      }
      resolve({ code, signal, stdout, stderr, json, ms: performance.now() - started });
    });
    child.stdin.end(opts.input ?? '');
  });
}
