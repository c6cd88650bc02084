// Runs the benchmarks in bench/*.bench.ts (all, or those whose name contains an argument).
// Each is bundled with esbuild (dependencies external) and run in its own node process.
import { build } from 'esbuild';
import { readdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const filters = process.argv.slice(2);
const benches = readdirSync(`${root}bench`)
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => !filters.length || filters.some((x) => f.includes(x)));
spawnSync(process.execPath, [`${root}scripts/bundle.mjs`], { stdio: 'inherit' }); // whole-CLI benches use dist/
let failed = 0;
for (const f of benches) {
  const outfile = `${root}.cache/bench/${f.replace(/\.ts$/, '.mjs')}`;
  await build({ entryPoints: [`${root}bench/${f}`], outfile, bundle: true, platform: 'node', format: 'esm', packages: 'external', logLevel: 'warning' });
  console.log(`\n# ${f}`);
  const r = spawnSync(process.execPath, [outfile], { stdio: 'inherit', cwd: root });
  if (r.status !== 0) failed++;
}
process.exitCode = failed ? 1 : 0;
