// Builds the CLI bundle once per test run, so tests run the tool as users do (a separate process).
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { CLI_BUNDLE } from './helpers/cli.js';

export default function setup(): void {
  const root = fileURLToPath(new URL('..', import.meta.url));
  execFileSync(process.execPath, [`${root}scripts/bundle.mjs`, CLI_BUNDLE], { stdio: 'inherit' });
  // the CLIs the tests start keep their compile cache (scripts/bundle.mjs) here, not in the user's ~/.cache
  process.env.QKS_COMPILE_CACHE ??= `${root}.cache/test-build/compile-cache`;
}
