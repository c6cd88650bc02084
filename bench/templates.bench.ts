// Template rendering cost against template size (it was once quadratic: 50k keys took 56 s). Baseline:
// 5k keys; a linear renderer gives ratios near 2x, 4x and 10x for 10k, 20k and 50k keys. The last row
// is the yaml library's own parse of the 20k-key text with its duplicate-key check on (what the renderer
// used to pay twice), for reference.
import { parse } from 'yaml';
import { measure, report } from './lib.js';
import { renderTemplate } from '../src/cloudinit/render.js';

const template = (keys: number) =>
  `#cloud-config\nbig:\n${Array.from({ length: keys }, (_, i) => (i % 10 ? `  k${i}: x\n` : `  k${i}: "{{hostname}}"\n`)).join('')}`;
const render = (keys: number) => {
  const text = template(keys);
  return () => renderTemplate({ name: 'bench', text }, 'user-data', { hostname: 'node-1' });
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
