// Builds the CLI without node_modules: the package's command (dist/bin/qemu-kubesolo.cjs, a loader, and
// qemu-kubesolo.chunks beside it), and the same program as single files that run with a bare `node`
// (dist/qemu-kubesolo.cjs, and dist/qemu-kubesolo.mjs as an ES module).
// usage: node scripts/bundle.mjs [OUTFILE...] [--cjs] [--split] [--report] [--trace]
//   OUTFILE    CommonJS when it ends in .cjs (or with --cjs), else ESM; by default the two single files
//              and the installed command (BIN: a loader, and its chunks in a file beside it)
//   --split    OUTFILE as the installed command is made (splitFiles): OUTFILE and OUTFILE's name .chunks
//   --report   print each chunk's size, inputs and imports
//   --trace    a loader that prints each chunk's fetch/compile/run times on stderr at exit (profiling)
//
// Start-up is dominated by compiling code, not running it (node --cpu-prof: a 1 MB bundle spent ~27 ms
// in V8's compile of the module for `--version`). So the file holds each part of the CLI (esbuild's
// code-splitting chunks: one per lazily imported verb, plus shared ones) as a string, and compiles a
// part only when it is first required: a verb pays for its own code, `--version` for almost none.
// Scanning a string literal costs a fraction of compiling the same text as code.
import { build, transform } from 'esbuild';
import { chmodSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { brotliCompressSync, constants as zlibConstants } from 'node:zlib';
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

/** The installed command (package.json's bin), made by splitFiles: this loader and, beside it, qemu-kubesolo.chunks. */
export const BIN = 'dist/bin/qemu-kubesolo.cjs';

// zod re-exports all of its ~50 message locales; the CLI speaks English only. Keeping just `en`
// halves zod's share of the bundle.
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

/**
 * The lines a provisioning system runs per VM, often in a bare environment without a compile cache (no
 * HOME): `--version`, `agent ping|cat` and `kubeconfig` without commander (src/cli/fast.ts). Their chunks
 * are stored as plain text in the file, so that even an uncached run of them needs no node:zlib (~3 ms to
 * load); every other chunk is stored compressed (brotli), inflated only by a run whose pack lacks it (a
 * verb's first run of a build, or no cache): a run its pack serves reads the source from the pack.
 */
const HOT_ENTRIES = ['src/cli/bin.ts', 'src/cli/fast.ts', 'src/cli/agent-verbs.ts', 'src/options/kubeconfig.ts', 'src/cli/kubeconfig-verb.ts'];

/**
 * The chunks of the CLI as CommonJS module bodies, keyed by the id other chunks require them by, and
 * `hot`: the ids that HOT_ENTRIES load (their chunks and what those import statically): stored plain
 * (see singleFile), the rest compressed.
 */
export async function buildChunks({ report = false } = {}) {
  const out = await build({
    metafile: true,
    absWorkingDir: root, // the metafile's paths (HOT_ENTRIES) are relative to it, whatever the caller's directory
    entryPoints: { main: `${root}src/cli/bin.ts` },
    outdir: '/qks', // not written: write is false
    write: false,
    bundle: true,
    splitting: true,
    platform: 'node',
    target: 'node20',
    format: 'esm',
    chunkNames: '[hash]',
    minify: true,
    legalComments: 'none',
    charset: 'ascii',
    logLevel: 'warning',
    plugins: [zodEnglishOnly],
  });
  const chunks = {};
  for (const f of out.outputFiles) {
    if (!f.path.endsWith('.js')) continue;
    // ESM chunk -> CommonJS body: static imports become require(), dynamic ones Promise-wrapped require()
    const cjs = await transform(f.text, { format: 'cjs', minify: true, target: 'node20', charset: 'ascii', supported: { 'dynamic-import': false } });
    if (/\bimport\.meta\b|\bimport\(/.test(cjs.code)) throw new Error(`${basename(f.path)}: import() or import.meta left after conversion`);
    // the entry's `#!` line (from src/cli/bin.ts) is for files, not for a function body
    chunks[`./${basename(f.path)}`] = cjs.code.replace(/^#!.*/, '');
  }
  if (report) printReport(out.metafile);
  const outputs = out.metafile.outputs;
  const hot = new Set();
  const visit = (path) => {
    const id = `./${basename(path)}`;
    if (hot.has(id)) return;
    hot.add(id);
    for (const i of outputs[path].imports) if (!i.external && i.kind === 'import-statement') visit(i.path);
  };
  for (const entry of HOT_ENTRIES) {
    const path = Object.keys(outputs).find((p) => p.endsWith('.js') && outputs[p].entryPoint === entry);
    if (!path) throw new Error(`bundle: the hot entry ${entry} was not found`);
    visit(path);
  }
  return { chunks, hot };
}

/** `--report`: each chunk's size, what it requires, and its biggest inputs (for start-up work). */
function printReport(metafile) {
  for (const [path, o] of Object.entries(metafile.outputs)) {
    if (!path.endsWith('.js')) continue;
    const groups = new Map();
    for (const [input, { bytesInOutput }] of Object.entries(o.inputs)) {
      const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(input);
      const g = m ? m[1] : input.replace(/^src\//, '');
      groups.set(g, (groups.get(g) ?? 0) + bytesInOutput);
    }
    const top = [...groups].sort((a, b) => b[1] - a[1]).slice(0, 6).map(([g, b]) => `${g} ${(b / 1024).toFixed(1)}K`);
    const deps = o.imports.filter((i) => !i.external).map((i) => `${i.kind === 'dynamic-import' ? '~' : ''}${basename(i.path)}`);
    console.log(`${basename(path)} ${(o.bytes / 1024).toFixed(1)}K ${o.entryPoint ?? ''}\n   ${top.join(', ')}\n   -> ${deps.join(' ')}`);
  }
}

/**
 * A few built-in modules cost milliseconds to load and are required at the top of files that use them
 * only in some calls (commander's child_process, for subcommands run as programs, which we never use;
 * the SSH module's spawn; fs/promises in modules that read files only without --socket; tty, asked
 * only for colour; os, for paths of verbs that may not need them). They are handed out as proxies
 * that load the module on first use of any property (measured with --trace below: node:child_process
 * ~5 ms of each verb's start, fs/promises ~3 ms, crypto ~2 ms, tty ~1-3 ms). Not net: a proxy of it
 * saved `artifacts` ~3 ms but cost `agent ping` ~2 ms (bench/startup.md, round 4).
 */
const LAZY_BUILTINS = `const lazy=new Set(${JSON.stringify(['child_process', 'crypto', 'fs/promises', 'tls', 'https', 'http', 'tty', 'os'])});
function builtin(id){
  if(!lazy.has(id.startsWith("node:")?id.slice(5):id))return nodeRequire(id);
  let real;const m=()=>real??=nodeRequire(id);
  return new Proxy({},{get:(_,k)=>m()[k],has:(_,k)=>k in m(),ownKeys:()=>Reflect.ownKeys(m()),
    getOwnPropertyDescriptor:(_,k)=>{const d=Reflect.getOwnPropertyDescriptor(m(),k);if(d)d.configurable=true;return d}});
}`;

/**
 * `--trace`: the same loader, timing each chunk (fetch, compile, run including what it requires) and
 * each built-in module it loads, printed on stderr at exit as one JSON line per load.
 */
const TRACE_LOADER = `const trace=[],now=()=>performance.now();
process.on("exit",()=>{for(const t of trace)process.stderr.write(JSON.stringify(t)+"\\n")});
function load(id){
  const done=loaded.get(id);
  if(done)return done.exports;
  const t0=now();
  const packed=precompiled(id);
  if(packed&&!trace.some((t)=>t.id==="pack"))trace.push({id:"pack",ms:+(now()-t0).toFixed(3),chunks:pack.ids.length,gen:pack.gen,cacheRejected:pack.rejected});
  const src=packed?"":chunk(id);
  if(src===undefined){const m=builtin(id);trace.push({id,builtin:true,ms:+(now()-t0).toFixed(3)});return m}
  const module={exports:{}};
  loaded.set(id,module);
  const t1=now();
  const fn=packed??compile(id,src);
  const t2=now();
  const entry={id,bytes:src.length,fetch:+(t1-t0).toFixed(3),compile:+(t2-t1).toFixed(3),...(packed?{packed:true}:{})};
  trace.push(entry);
  fn(module.exports,load,module);
  entry.runInclusive=+(now()-t2).toFixed(3);
  return module.exports;
}`;

/**
 * The compile cache (the bundle's and the single executable's: files on disk), as Node >= 22
 * does for modules with module.enableCompileCache(): under ~/.cache/qemu-kubesolo/v8-<node version>-<arch>/<verb>/
 * (or $XDG_CACHE_HOME, or the directory QKS_COMPILE_CACHE names; QKS_COMPILE_CACHE=0 turns it off, and
 * without HOME there is none: the single executable then has its built-in caches), one set per verb (its first word, the agent's subcommand; `--version`
 * alone has its own): each holds what that verb runs.
 * - The chunks a verb runs go in one pack, pack-<build>.v8: their source and V8's code cache of it, the
 *   chunks compiled together as one array of functions. One read and one deserialisation instead of one
 *   per chunk (kubeconfig runs ~37 chunks, ~0.2 ms each apart: bench/startup.md, "Round 4: kubeconfig"),
 *   and nothing read back from this file nor inflated, so most chunks can be stored compressed here (the
 *   file's size is what every start pays: bench/startup.md, round 7). A run that needs a chunk the pack
 *   lacks compiles it alone and writes a new pack with it added (generation 1: compiled, not yet run);
 *   the next run served wholly by it writes it back with what it ran (generation 2); later runs only read it.
 * - The pack's source is trusted as its code cache is (V8 checks a cache's version, flags and source
 *   length, not its bytes): both are written by this loader, into the user's own directories (below).
 * - Caches are taken at the end of a successful run (Script#createCachedData), so they hold the
 *   functions that ran compiled, not only the top level: V8 compiles a function when it is first called,
 *   and a start calls most of its code once. Compiling zod's chunk takes ~30 ms, loading its cache ~2 ms.
 * - The name follows the content (the build's fingerprint); a cache V8 refuses, or a pack that does not
 *   read, is compiled as usual and a fresh one written: atomically, mode 0600, in 0700 directories that
 *   must be the user's own.
 */
const COMPILE_CACHE = `let cacheDir;
function cacheDirectory(){
  if(cacheDir!==undefined)return cacheDir;
  cacheDir=null;
  const e=process.env;
  if(e.QKS_COMPILE_CACHE==="0")return null;
  const base=e.QKS_COMPILE_CACHE||(e.XDG_CACHE_HOME?e.XDG_CACHE_HOME+"/qemu-kubesolo":e.HOME?e.HOME+"/.cache/qemu-kubesolo":"");
  if(!base)return null;
  const args=process.argv.slice(2),words=args.filter((a)=>!a.startsWith("-")),ok=(w)=>!!w&&w.length<=40&&w[0]>="a"&&w[0]<="z"&&[...w].every((c)=>(c>="a"&&c<="z")||(c>="0"&&c<="9")||c==="-");
  const verb=ok(words[0])?words[0]+(words[0]==="agent"&&ok(words[1])?"-"+words[1]:""):args.length===1&&(args[0]==="--version"||args[0]==="-V")?"-version":"-";
  try{const fs=nodeRequire("node:fs"),d=base+"/v8-"+process.version+"-"+process.arch+"/"+verb;let st;try{st=fs.statSync(d)}catch{fs.mkdirSync(d,{recursive:true,mode:0o700});st=fs.statSync(d)}if(st.isDirectory()&&st.uid===process.getuid())cacheDir=d}catch{}
  return cacheDir;
}
const wrap=(src)=>"(function("+PARAMS+"){"+src+"\\n})";
let pack,missed=false,armed=false;
const packFile=()=>cacheDir+"/pack-"+STAMP+".v8",alone=new Map();
function atExit(){if(!armed){armed=true;process.once("exit",(status)=>{if(status===0)writeCaches()})}}
/**
 * The verb's pack, or null. The file: u32 header length, header JSON {gen, ids, src: the source's length},
 * the pack's source (latin1), V8's cache of that source. A run served by it reads nothing of this file's
 * chunks (Node has read the whole file once: each KB of it costs every start, bench/startup.md round 7).
 */
function openPack(){
  if(pack!==undefined)return pack;
  pack=null;
  try{
    const b=nodeRequire("node:fs").readFileSync(packFile()),n=b.readUInt32LE(0),h=JSON.parse(b.toString("latin1",4,4+n)),at=4+n+h.src;
    if(!Array.isArray(h.ids)||!h.ids.every((id)=>index[id])||!(at<=b.length))return pack;
    const src=b.toString("latin1",4+n,at),script=new Script(src,{filename:"qemu-kubesolo/pack",cachedData:b.subarray(at)}),fns=script.runInThisContext();
    if(!Array.isArray(fns)||fns.length!==h.ids.length||!fns.every((f)=>typeof f==="function"))return pack;
    pack={ids:h.ids,src,fns:new Map(h.ids.map((id,k)=>[id,fns[k]])),script,gen:h.gen,rejected:script.cachedDataRejected};
  }catch{}
  return pack;
}
/** A chunk's function from the pack, or undefined: it is then compiled alone (and the pack rewritten at exit). */
function precompiled(id){
  if(!index[id]||!cacheDirectory())return;
  atExit();
  const f=openPack()?.fns.get(id);
  if(!f)missed=true;
  return f;
}
function compile(id,src){
  if(cacheDirectory())alone.set(id,src);
  return new Script(wrap(src),{filename:"qemu-kubesolo/"+id.slice(2),...builtinCache(id)}).runInThisContext();
}
/**
 * A pack's script: "[" + each chunk wrapped as compile() wraps one + "]" (made only when a pack is written);
 * the chunks this run compiled alone from their text as read (and inflated) then, the pack's others read again.
 */
const packSource=(ids)=>"["+ids.map((id)=>wrap(alone.get(id)??chunk(id))).join(",")+"]";
function writeCaches(){
  const p=pack;
  if(!missed&&!(p&&(p.rejected||p.gen<2)))return; // the usual run: everything came from its pack, nothing to write
  // wholly served: the pack's own script, with what ran; else a new one with the chunks it lacked
  const fs=nodeRequire("node:fs"),whole=p&&!missed,ids=whole?p.ids:[...(p?p.ids:[]),...alone.keys()],src=whole?p.src:packSource(ids);
  // the header is padded (JSON allows trailing spaces) so that V8's part starts 8-aligned in the read buffer: V8 copies a cache that is not (bench/startup.md, round 8)
  const script=whole?p.script:new Script(src,{filename:"qemu-kubesolo/pack"}),json=JSON.stringify({gen:whole?2:1,ids,src:src.length}),head=Buffer.from(json.padEnd(json.length+(-(4+json.length+src.length)&7)),"latin1"),n=Buffer.alloc(4);
  n.writeUInt32LE(head.length);
  try{const file=packFile(),tmp=file+"."+process.pid+".tmp";fs.writeFileSync(tmp,Buffer.concat([n,head,Buffer.from(src,"latin1"),script.createCachedData()]),{mode:0o600});fs.renameSync(tmp,file)}catch{}
  // other builds' packs (and older layouts' caches) go when this verb's is written, once a day old: two installed versions run in turn keep theirs
  const keep=packFile().slice(cacheDir.length+1),old=Date.now()-864e5;
  try{for(const f of fs.readdirSync(cacheDir))if(f.endsWith(".v8")&&f!==keep&&fs.statSync(cacheDir+"/"+f).mtimeMs<old)fs.rmSync(cacheDir+"/"+f,{force:true})}catch{}
}`;

/**
 * `--version` alone is answered by the loader, before any chunk, pack or node:vm: it is what wrappers
 * call to check the tool is there (issue 20: <= 1.10x `node -e 0`; the loader's path to a verb's first
 * chunk costs ~2.5 ms, bench/startup.md round 10). A write that fails, or is short, goes on to
 * src/cli/bin.ts, which answers the same line with the CLI's handling of a stdout that cannot take it.
 */
const VERSION_ANSWER = `const argv=process.argv,version=${JSON.stringify(`${JSON.parse(readFileSync(`${root}package.json`, 'utf8')).version}\n`)};
function versionWritten(){try{return nodeRequire("node:fs").writeSync(1,version)===version.length}catch{return false}}
if(!(argv.length===3&&(argv[2]==="--version"||argv[2]==="-V")&&versionWritten()))load("./main.js");`;

/** The single executable's chunks at least this big carry a code cache (scripts/sea.mjs; smaller ones compile in well under a millisecond). */
export const CACHE_FROM = 16 * 1024;

/** The parameters each chunk is compiled with (a CommonJS module body). */
export const CHUNK_PARAMS = ['exports', 'require', 'module'];

/** A chunk as the loader compiles it (COMPILE_CACHE's `wrap`): a built-in code cache must be of exactly this text. */
export const wrapChunk = (code) => `(function(${CHUNK_PARAMS}){${code}\n})`;

/**
 * A chunk stored compressed: brotli's best for text (12 % smaller than deflate's on these chunks; inflated
 * as fast). Once per chunk text: the build writes the same chunks into three files (~1.3 s a set).
 */
const compressed = new Map();
const brotli = (code) => {
  let b = compressed.get(code);
  if (!b) {
    b = brotliCompressSync(code, { params: { [zlibConstants.BROTLI_PARAM_QUALITY]: 11, [zlibConstants.BROTLI_PARAM_MODE]: zlibConstants.BROTLI_MODE_TEXT, [zlibConstants.BROTLI_PARAM_SIZE_HINT]: code.length } });
    compressed.set(code, b);
  }
  return b;
};

/**
 * The single file: a small loader, then the chunks, each compiled on its first require.
 * Both layouts keep each verb's pack on disk (COMPILE_CACHE); they differ in where a chunk's text is
 * when no pack has it:
 * - `layout: 'comment'` (a file on disk): the chunks sit in one comment at the end, which V8 skips at
 *   almost no cost; the loader reads its own file when a chunk is first needed (measured: cheaper than
 *   the same text as string literals, whose escapes the scanner decodes, or compressed).
 * - `layout: 'assets'` (the single executable, scripts/sea.mjs): each chunk is an asset of the
 *   executable under its id (node:sea, Node >= 20.12), and `caches` (a Set of ids) says which also have a
 *   V8 code cache of wrapChunk's text under "v8:" + id. The main script is only the loader: as string
 *   literals the chunks and caches (2.5 MB) were deserialised by every start: agent cat took ~10 ms
 *   more than with assets (bench/startup.md, round 10).
 */
export function singleFile(chunks, options = {}) {
  const { head, tail } = loaderAndChunks(chunks, options);
  return head + tail;
}

/**
 * The installed command (package.json's bin): the same loader in one file, and the chunks in
 * `sidecar`, a file beside it. The comment layout's text, split: Node reads the whole main file at every
 * start, and a run its pack serves needs none of the chunks (the command started 2-4 ms sooner than the
 * single file: bench/startup.md, round 10). The single file stays, for copying to a host alone.
 */
export function splitFiles(chunks, { sidecar, hot, trace = false }) {
  const { head, tail } = loaderAndChunks(chunks, { format: 'cjs', hot, trace, sidecar });
  return { main: head, chunks: tail };
}

function loaderAndChunks(chunks, { format = 'esm', layout = 'comment', trace = false, caches, hot, sidecar } = {}) {
  // `self`: the file the chunks' text is read from (this one, or the sidecar beside it; Node gives a main module's real path)
  const prelude =
    format === 'cjs'
      ? `"use strict";const nodeRequire=require,self=${sidecar ? `__dirname+${JSON.stringify(`/${sidecar}`)}` : '__filename'};`
      : `import{createRequire as cr}from"node:module";import{fileURLToPath as fu}from"node:url";const nodeRequire=cr(import.meta.url),self=fu(import.meta.url);`;
  let table;
  let tail = '';
  if (layout === 'assets') {
    // index: 1 = the chunk is an asset, 2 = and so is its built-in code cache ("v8:" + id)
    const index = Object.fromEntries(Object.keys(chunks).map((id) => [id, caches?.has(id) ? 2 : 1]));
    const stamp = createHash('sha256').update(JSON.stringify(chunks)).digest('hex').slice(0, 16);
    table = `const index=${JSON.stringify(index)},STAMP=${JSON.stringify(stamp)};let sea;const asset=(k)=>Buffer.from((sea??=nodeRequire("node:sea")).getRawAsset(k));`;
    // a chunk its pack does not serve (no cache directory, or a verb's first run) is read from the executable, and compiled with its built-in cache if it has one
    table += 'const chunk=(id)=>index[id]?asset(id).toString("latin1"):undefined,builtinCache=(id)=>index[id]===2?{cachedData:asset("v8:"+id)}:undefined;';
  } else {
    // inside a comment `*/` would end it: written as `*\x01/` (the chunks are ASCII without control
    // characters: charset ascii) and restored on load
    // The chunks outside `hot` (when given) are compressed: the whole file's size is what every start pays
    // for (Node reads and scans it: ~5 us a KB, bench/startup.md round 7), and only a run whose pack lacks
    // one inflates it (node:zlib, ~3 ms to load).
    const parts = [];
    const index = {};
    let at = 0;
    for (const [id, code] of Object.entries(chunks)) {
      if (code.includes('\x01')) throw new Error(`${id}: a raw \\x01 in the output`);
      const compressed = hot !== undefined && !hot.has(id);
      const text = compressed ? brotli(code).toString('base64') : code.replaceAll('*/', '*\x01/');
      parts.push(text);
      index[id] = [at, text.length, compressed ? 1 : 0];
      if (!compressed && text !== code) index[id].push(1); // escaped: restored on load (the others are used as read)
      at += text.length;
    }
    // the build's fingerprint closes the comment: a file replaced under a running process (an upgrade)
    // is noticed instead of compiling text at stale offsets
    const stamp = createHash('sha256').update(parts.join('')).digest('hex').slice(0, 16);
    tail = `/*\n${parts.join('')}${stamp}*/\n`;
    // offsets count back from the end of the file, so they do not depend on the loader's length
    for (const v of Object.values(index)) v[0] = tail.length - 3 - v[0];
    // Each chunk is read on its own (pread at its offset), and only by a run its pack does not serve: Node
    // has read and scanned the whole file once already; reading it all again as one string cost ~2 ms and
    // a megabyte of heap a start. The stamp is checked with every read: the file may have been rewritten
    // in place since.
    const end = JSON.stringify(stamp + '*/\n');
    table = `const index=${JSON.stringify(index)},STAMP=${JSON.stringify(stamp)};let fd,size;`;
    table +=
      'const builtinCache=()=>undefined;function bytes(pos,len){const fs=nodeRequire("node:fs"),end=' + end + ',at=(p,l)=>{const b=Buffer.allocUnsafe(l);return p>=0&&fs.readSync(fd,b,0,l,p)===l?b:Buffer.alloc(0)};' +
      'if(fd===undefined){try{fd=fs.openSync(self,"r")}catch(e){process.stderr.write("error: cannot read "+self+" ("+e.code+"), a part of this command: reinstall it\\n");process.exit(1)}size=fs.fstatSync(fd).size}' +
      'if(at(size-end.length,end.length).toString("latin1")!==end){process.stderr.write("error: "+self+" is not the file this run started from (replaced or damaged): run the command again, or reinstall it\\n");process.exit(1)}' +
      'return at(size-pos,len)}' +
      'const text=(at,s)=>at[2]?nodeRequire("node:zlib").brotliDecompressSync(Buffer.from(s,"base64")).toString("latin1"):at[3]?s.replaceAll("*\\x01/","*/"):s;' +
      'function chunk(id){const at=index[id];if(!at)return;return text(at,bytes(at[0],at[1]).toString("latin1"))}';
  }
  const head = `#!/usr/bin/env node
${prelude}
// node:vm (~0.25 ms to load) when a chunk is first compiled: a \`--version\` the loader answers needs none
let vmScript;const Script=function(...a){return new(vmScript??=nodeRequire("node:vm").Script)(...a)};
${table}
const PARAMS=${JSON.stringify(CHUNK_PARAMS)};
${COMPILE_CACHE}
const loaded=new Map();
${LAZY_BUILTINS}
${trace ? TRACE_LOADER : `function load(id){
  const done=loaded.get(id);
  if(done)return done.exports;
  let fn=precompiled(id);
  if(!fn){
    const src=chunk(id);
    if(src===undefined)return builtin(id);
    fn=compile(id,src);
  }
  const module={exports:{}};
  loaded.set(id,module);
  fn(module.exports,load,module);
  return module.exports;
}`}
${VERSION_ANSWER}
`;
  return { head, tail };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const report = args.includes('--report');
  const trace = args.includes('--trace');
  const named = args.filter((a) => !a.startsWith('--'));
  // single files: the .cjs (a .mjs main costs node ~8 ms more to start: its ESM loader), and the .mjs,
  // the same program for those who run `node qemu-kubesolo.mjs`; and the installed command, split
  const outfiles = named.length ? named : [`${root}dist/qemu-kubesolo.cjs`, `${root}dist/qemu-kubesolo.mjs`, `${root}${BIN}`];
  const split = args.includes('--split');
  const { chunks, hot } = await buildChunks({ report });
  // a concurrent reader (tests, bench) never sees half a file
  const put = (file, text, mode) => {
    const tmp = `${file}.${process.pid}.tmp`;
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(tmp, text, { mode });
    chmodSync(tmp, mode);
    renameSync(tmp, file);
  };
  for (const outfile of outfiles) {
    if (split || outfile === `${root}${BIN}`) {
      if (!outfile.endsWith('.cjs')) throw new Error(`bundle: ${outfile}: the two-file command is CommonJS, name it *.cjs`);
      const sidecar = `${basename(outfile).replace(/\.cjs$/, '')}.chunks`;
      const files = splitFiles(chunks, { sidecar, hot, trace });
      put(join(dirname(outfile), sidecar), files.chunks, 0o644); // the chunks first: the new loader checks their stamp
      put(outfile, files.main, 0o755);
      continue;
    }
    const format = args.includes('--cjs') || outfile.endsWith('.cjs') ? 'cjs' : 'esm';
    put(outfile, singleFile(chunks, { format, trace, hot }), 0o755);
  }
}
