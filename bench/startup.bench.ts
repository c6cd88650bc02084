// Start-up of the CLI: the single-file bundle vs the unbundled CLI (tsc output + node_modules) vs a
// bare `node -e ''` (the baseline), whole processes, `--version` and `iso --help`.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { measureProcess, report } from './lib.js';

const bundle = 'dist/qemu-kubesolo.mjs';
const unbundled = 'dist/lib/cli/bin.js';
if (!existsSync(unbundled)) execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { stdio: 'inherit' });

const opts = { iterations: 20, warmup: 3 };
const node = await measureProcess("node -e ''", process.execPath, ['-e', ''], opts);
for (const args of [['--version'], ['iso', '--help'], ['kubeconfig', '--help']]) {
  report(`start-up: qemu-kubesolo ${args.join(' ')}`, node, [
    await measureProcess('bundle (dist/qemu-kubesolo.mjs)', process.execPath, [bundle, ...args], opts),
    await measureProcess('unbundled (dist/lib + node_modules)', process.execPath, [unbundled, ...args], opts),
  ]);
}
