// README.md's "How the code is laid out" names every folder under src/ (and no folder that is gone),
// so a newcomer finds the file from the feature.
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));

describe('README: how the code is laid out', () => {
  const readme = readFileSync(`${root}/README.md`, 'utf8');
  const start = readme.indexOf('### How the code is laid out');
  const section = readme.slice(start, readme.indexOf('\n#', start + 1));
  const named = new Set([...section.matchAll(/^\| `src\/([^`*]+)\/` \|/gm)].map((m) => m[1]!));
  const folders = (dir: string): string[] =>
    readdirSync(`${root}/src/${dir}`, { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .flatMap((e) => [`${dir}${e.name}`, ...folders(`${dir}${e.name}/`)]);

  it('has the section', () => expect(start).toBeGreaterThan(0));

  it('every top-level src/ folder has its own row', () => {
    const top = readdirSync(`${root}/src`, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);
    expect(top.filter((f) => !named.has(f))).toEqual([]);
  });

  it('every folder it names exists, and every deeper folder is named in its parent row or its own', () => {
    const all = folders('');
    expect([...named].filter((f) => !all.includes(f))).toEqual([]);
    for (const f of all.filter((x) => x.includes('/'))) expect(section, f).toMatch(new RegExp(`src/${f}/|${f.split('/').pop()}/`));
  });
});
