#!/usr/bin/env node
/**
 * The command's entry. `--version` alone answers here, before the CLI (commander, the verbs) is loaded:
 * it is what wrappers call to check the tool is there, so it should cost about a bare `node` start. The
 * built command's loader answers it even before this chunk (VERSION_ANSWER in scripts/bundle.mjs), and
 * comes here when its write fails: the handling of a stdout that cannot take it is this file's.
 * No top-level await: the single executable's main script is CommonJS (scripts/sea.mjs).
 */
import { writeSync } from 'node:fs';
import { VERSION } from '../version.js';

const args = process.argv.slice(2);
if (args.length === 1 && (args[0] === '--version' || args[0] === '-V')) {
  // one write(2), as ./output.ts writes (no stream, not even that module: this is all `--version` compiles);
  // a stdout that cannot take it (`> /dev/full`, a closed pipe, EAGAIN) is handled as for every verb
  try {
    writeSync(1, `${VERSION}\n`);
  } catch (e) {
    void import('./main.js').then((m) => m.versionNotWritten(e as NodeJS.ErrnoException));
  }
} else {
  // agent ping|cat and kubeconfig lines it fully understands run without commander (./fast.ts); the rest through main.ts
  void import('./fast.js').then(async (f) => {
    const call = f.matchFast(process.argv);
    if (call) return f.runFast(call);
    if (!(await f.runFastKubeconfig(process.argv))) await import('./main.js').then((m) => m.main());
  });
}
