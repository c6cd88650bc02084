// Builds the CLI as one executable for hosts without Node (Node's single-executable applications):
// the node running this script, with the CLI's loader as its main script (CommonJS, code cache on) and
// its parts as assets.
// usage: node scripts/sea.mjs [OUTFILE] [--trace]   (default dist/qemu-kubesolo-linux-x64; --trace: see bundle.mjs)
//
// The ~100 MB copy of node and postject's injection take seconds: results are kept in .cache/sea/,
// keyed by the main script, this node and postject, so a rebuild of unchanged sources is a copy.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as nodeSea from 'node:sea';
import { Script } from 'node:vm';
import { buildChunks, CACHE_FROM, singleFile, wrapChunk } from './bundle.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
// Node's own fuse name (doc/api/single-executable-applications.md): postject flips it to say a blob is there
const SENTINEL_FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';

/**
 * V8 code caches of the chunks, made here by the node that becomes the executable, so they always fit
 * (measured: compiling zod's chunk drops from ~32 ms to ~2 ms). They serve a run without a cache
 * directory (no HOME: `env -i`) and a verb's first run; later runs read the verb's pack from disk, as the
 * bundle's do (COMPILE_CACHE in scripts/bundle.mjs), which also holds the functions that ran. Only a
 * chunk's top level is in these (functions compile when first called), which is where scope-hoisted
 * libraries spend it. Small chunks compile in well under a millisecond: their caches would only add
 * to the executable.
 */
function codeCaches(chunks) {
  const caches = new Map();
  for (const [id, code] of Object.entries(chunks)) {
    if (code.length >= CACHE_FROM) caches.set(id, new Script(wrapChunk(code), { filename: `qemu-kubesolo/${id.slice(2)}` }).createCachedData());
  }
  return caches;
}

/** The executable's assets (scripts/bundle.mjs, layout 'assets'): each chunk under its id, each cache under "v8:" + id; a file each in `dir`. */
function writeAssets(dir, chunks, caches) {
  const assets = {};
  let n = 0;
  const put = (key, data) => {
    const file = join(dir, `${n++}`);
    writeFileSync(file, data);
    assets[key] = file;
  };
  for (const [id, code] of Object.entries(chunks)) put(id, Buffer.from(code, 'latin1'));
  for (const [id, cache] of caches) put(`v8:${id}`, cache);
  return assets;
}

/** Builds (or takes from the cache) the executable and copies it to `outfile`; returns `outfile`. */
export async function buildSea(outfile = `${root}dist/qemu-kubesolo-linux-x64`, { log = () => {}, trace = false } = {}) {
  if (process.platform !== 'linux' || process.arch !== 'x64') throw new Error(`the single executable is built for linux-x64 only (this is ${process.platform}-${process.arch})`);
  if (typeof nodeSea.getRawAsset !== 'function') throw new Error(`the single executable keeps its parts as assets (node:sea), which needs Node >= 20.12 to build (this is ${process.version})`);
  // The main script is the loader; the chunks and their caches are the executable's assets: see singleFile in scripts/bundle.mjs.
  const { chunks } = await buildChunks();
  const caches = codeCaches(chunks);
  const main = singleFile(chunks, { format: 'cjs', layout: 'assets', caches: new Set(caches.keys()), trace });
  const postjectCli = createRequire(import.meta.url).resolve('postject/dist/cli.js');
  const node = process.execPath;
  const key = createHash('sha256')
    .update(main) // its stamp is the chunks' hash
    .update(`${process.version} ${node} ${statSync(node).size} ${statSync(node).mtimeMs} ${readFileSync(postjectCli).length}`)
    .digest('hex')
    .slice(0, 16);
  const cacheDir = `${root}.cache/sea`;
  const cached = join(cacheDir, `qemu-kubesolo-${key}`);
  if (!existsSync(cached)) {
    log(`building the single executable (${key})`);
    mkdirSync(cacheDir, { recursive: true });
    const work = mkdtempSync(join(cacheDir, 'build-'));
    try {
      writeFileSync(join(work, 'main.cjs'), main);
      mkdirSync(join(work, 'assets'));
      const assets = writeAssets(join(work, 'assets'), chunks, caches);
      writeFileSync(
        join(work, 'sea-config.json'),
        JSON.stringify({ main: join(work, 'main.cjs'), output: join(work, 'blob'), useCodeCache: true, disableExperimentalSEAWarning: true, assets }),
      );
      // both chatter on success (postject: LIEF's "Can't find string offset" warnings): their output
      // is shown only when they fail (execFileSync's error carries it)
      const quiet = { stdio: ['ignore', 'pipe', 'pipe'] };
      execFileSync(node, ['--experimental-sea-config', join(work, 'sea-config.json')], quiet);
      const exe = join(work, 'exe');
      copyFileSync(node, exe);
      chmodSync(exe, 0o755);
      execFileSync(node, [postjectCli, exe, 'NODE_SEA_BLOB', join(work, 'blob'), '--sentinel-fuse', SENTINEL_FUSE], quiet);
      renameSync(exe, cached); // complete or absent: two builders never see half a file
      // one build kept (each is ~100 MB); a copy in progress from a removed one still completes
      for (const f of readdirSync(cacheDir)) if (f.startsWith('qemu-kubesolo-') && join(cacheDir, f) !== cached) rmSync(join(cacheDir, f), { force: true });
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  }
  const tmp = `${outfile}.${process.pid}.tmp`;
  mkdirSync(dirname(outfile), { recursive: true });
  copyFileSync(cached, tmp);
  chmodSync(tmp, 0o755);
  renameSync(tmp, outfile);
  return outfile;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const out = await buildSea(args.find((a) => !a.startsWith('--')), { log: (m) => console.error(m), trace: args.includes('--trace') });
  console.error(`${out}: ${(statSync(out).size / 1024 / 1024).toFixed(1)} MiB`);
}
