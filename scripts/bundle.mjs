// Builds the single-file CLI (dist/qemu-kubesolo.mjs): runs with a bare `node`, no node_modules.
// usage: node scripts/bundle.mjs [OUTFILE]
import { build } from 'esbuild';
import { chmodSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const outfile = process.argv[2] ?? `${root}dist/qemu-kubesolo.mjs`;
await build({
  entryPoints: [`${root}src/cli/bin.ts`],
  outfile,
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  minifyWhitespace: true,
  minifySyntax: true,
  legalComments: 'none',
  logLevel: 'warning',
  // some dependencies are CommonJS and call require(): give the ESM bundle one
  banner: { js: "import { createRequire as __qksCreateRequire } from 'node:module'; const require = __qksCreateRequire(import.meta.url);" },
});
chmodSync(outfile, 0o755);
