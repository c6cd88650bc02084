// Template rendering cost against template size (it was once quadratic: 50k keys took 56 s). Baseline:
// 5k keys; a linear renderer gives ratios near 2x, 4x and 10x for 10k, 20k and 50k keys. The last row
// is the yaml library's own parse of the 20k-key text with its duplicate-key check on (what the renderer
// used to pay twice), for reference. With QKS_BENCH_BEFORE (bench/lib.ts) the built-in templates of
// one VM (renderDocuments) and the 5k/20k-key renders also run beside the older build's, interleaved.
// Each render here has its own text, so the parsed-template cache (src/cloudinit/render.ts) is missed
// on purpose after the first: these rows are the parse-and-render cost; the per-VM row is what an
// inventory pays.
import { parse } from 'yaml';
import { before, besideModules, measure, measureInterleaved, report, reportBeside, type Sample } from './lib.js';
import { renderTemplate } from '../src/cloudinit/render.js';
import type * as artifactsNew from '../src/cloudinit/artifacts.js';
import type * as configNew from '../src/cloudinit/config.js';
import { sha512Crypt } from '../src/cloudinit/password.js';

const template = (keys: number) =>
  `#cloud-config\nbig:\n${Array.from({ length: keys }, (_, i) => (i % 10 ? `  k${i}: x\n` : `  k${i}: "{{hostname}}"\n`)).join('')}`;
let serial = 0;
const render = (keys: number, fn: typeof renderTemplate = renderTemplate) => {
  const text = template(keys);
  // a text of its own each time (a comment line): parse and render, not a cached parse
  return () => fn({ name: 'bench', text: `${text}# ${serial++}\n` }, 'user-data', { hostname: 'node-1' });
};

const opts = { iterations: 5, warmup: 1 };
const base = await measure('render 5k keys', render(5_000), opts);
const rows = [
  await measure('render 10k keys', render(10_000), opts),
  await measure('render 20k keys', render(20_000), opts),
  await measure('render 50k keys', render(50_000), opts),
];
const text20k = template(20_000);
rows.push(await measure('yaml parse of 20k keys, uniqueKeys on (the old cost, once)', () => parse(text20k, { version: '1.1', uniqueKeys: true }), { iterations: 3, warmup: 0 }));
report('template rendering: time against size (linear: ratio = size ratio)', base, rows);
console.log(`rss after the runs: ${(process.memoryUsage().rss / 1e6).toFixed(0)} MB`);

if (before) {
  const m = await besideModules(['src/cloudinit/render.ts', 'src/cloudinit/artifacts.ts', 'src/cloudinit/config.ts']);
  const [renderOld, artifactsOld, configOld] = m.old;
  const [renderNew, artifactsFresh, configFresh] = m.new as [{ renderTemplate: typeof renderTemplate }, typeof artifactsNew, typeof configNew];
  const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcH ops@example.com';
  const hash = sha512Crypt('bench');
  const vm = async (config: typeof configNew, key: string) =>
    config.resolveArtifactsConfig({ hostname: 'node-1', [key]: KEY, passwordHash: hash, autoInstallKubesolo: true, outputDir: '/nonexistent' }, { env: {}, home: '/nonexistent' });
  const cNew = await vm(configFresh, 'sshKeys');
  const cOld = await vm(configOld as typeof configNew, 'sshKey');
  const beside: { name: string; old: Sample; new: Sample }[] = [];
  const pair = async (name: string, fnNew: () => unknown, fnOld: () => unknown, o: { iterations: number; warmup: number }) => {
    const [n, od] = await measureInterleaved([{ name, fn: fnNew }, { name, fn: fnOld }], o);
    beside.push({ name, new: n!, old: od! });
  };
  await pair('one VM\'s built-in documents (renderDocuments, --password-hash)', () => artifactsFresh.renderDocuments(cNew), () => (artifactsOld as typeof artifactsNew).renderDocuments(cOld), { iterations: 500, warmup: 50 });
  await pair('render 5k keys', render(5_000, renderNew.renderTemplate), render(5_000, renderOld!.renderTemplate), opts);
  await pair('render 20k keys', render(20_000, renderNew.renderTemplate), render(20_000, renderOld!.renderTemplate), opts);
  reportBeside('template rendering', beside);
}
