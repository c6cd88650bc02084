#!/usr/bin/env node
/**
 * The command's entry. `--version` alone answers here, before the CLI (commander, the verbs) is loaded:
 * it is what wrappers call to check the tool is there, so it should cost about a bare `node` start.
 * No top-level await: the single executable's main script is CommonJS (scripts/sea.mjs).
 */
import { VERSION } from '../version.js';
import { watchStdout } from './output.js';

const args = process.argv.slice(2);
if (args.length === 1 && (args[0] === '--version' || args[0] === '-V')) {
  // a stdout that cannot take it (`> /dev/full`, a closed pipe) is reported as for every verb
  watchStdout(process.stdout);
  process.stdout.write(`${VERSION}\n`, (e) => {
    if (e) void import('./main.js').then((m) => m.reportVersionStdoutFailure());
  });
} else void import('./main.js').then((m) => m.main());
