// Builds the single-file CLI (dist/qemu-kubesolo.mjs): runs with a bare `node`, no node_modules.
// usage: node scripts/bundle.mjs [OUTFILE]
import { build } from 'esbuild';
import { chmodSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

// zod re-exports all of its ~50 message locales; the CLI speaks English only. Keeping just `en`
// halves the bundle and its start-up parse time.
const zodEnglishOnly = {
  name: 'zod-english-only',
  setup(b) {
    b.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, (args) =>
      args.importer.includes(`${'/'}node_modules/zod/`) ? { path: 'zod-locales', namespace: 'qks' } : undefined,
    );
    b.onLoad({ filter: /^zod-locales$/, namespace: 'qks' }, () => ({
      contents: `export { default as en } from ${JSON.stringify(`${root}node_modules/zod/v4/locales/en.js`)};`,
      loader: 'js',
      resolveDir: root,
    }));
  },
};
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
  plugins: [zodEnglishOnly],
  // some dependencies are CommonJS and call require(): give the ESM bundle one
  banner: { js: "import { createRequire as __qksCreateRequire } from 'node:module'; const require = __qksCreateRequire(import.meta.url);" },
});
chmodSync(outfile, 0o755);
