/**
 * The README's option tables, rendered from the option tables and read back (test/options/table.test.ts
 * checks each README table row by row against src/options/<verb>.ts).
 */
import { defaultTextOf, longFlags, type OptionDef, type OptionTable } from './table.js';

export interface ReadmeRow {
  flag: string;
  variables: string[];
  default: string;
}

const code = (s: string) => `\`${s.replace(/\|/g, '\\|')}\``;

/** The Flag cell: every spelling (aliases, `--no-` form), `…` when repeatable. */
export function flagCell(d: OptionDef): string {
  const spelled = d.flag.replace(/\s*<[^>]+>/, '');
  const arg = /<[^>]+>/.exec(d.flag)?.[0];
  const flag = arg ? `${spelled} ${arg}` : spelled;
  const parts = [code(flag + (d.list ? ' …' : ''))];
  if (d.negate) parts.push(code(`--no-${longFlags(d)[0]!.slice(2)}`));
  return parts.join(', ');
}

/** One markdown table for a README section. */
export function markdownTable(tables: OptionTable[]): string {
  const lines = ['| Flag | Variable | Default | What |', '|---|---|---|---|'];
  const seen = new Set<string>();
  for (const t of tables) {
    for (const d of Object.values(t)) {
      if (seen.has(d.flag)) continue;
      seen.add(d.flag);
      const vars = d.env?.length ? d.env.map(code).join(', ') : '—';
      const def = defaultTextOf(d);
      lines.push(`| ${flagCell(d)} | ${vars} | ${def === undefined ? '—' : code(def)} | ${d.help.replace(/\|/g, '\\|')} |`);
    }
  }
  return lines.join('\n');
}

const unquote = (s: string) => s.trim().replace(/^`|`$/g, '').replace(/\\\|/g, '|');

/** The rows of a README option table: the long flags of its Flag cell, its variables and its default. */
export function parseMarkdownTable(text: string): ReadmeRow[] {
  return text
    .split('\n')
    .filter((l) => l.startsWith('| `'))
    .map((l) => {
      const cells = l.slice(1, -1).split(/(?<!\\)\|/).map((c) => c.trim());
      const flagCellText = cells[0]!;
      const vars = cells[1] === '—' ? [] : cells[1]!.split(',').map(unquote);
      const def = cells[2] === '—' ? '' : unquote(cells[2]!);
      return { flag: flagCellText, variables: vars, default: def };
    });
}

export const beginMarker = (id: string) => `<!-- options:${id} (generated from src/options/; test/options/table.test.ts checks it) -->`;
export const END_MARKER = '<!-- /options -->';

/** The README text between a verb's markers, or undefined. */
export function readmeBlock(readme: string, id: string): string | undefined {
  const start = readme.indexOf(beginMarker(id));
  if (start < 0) return undefined;
  const end = readme.indexOf(END_MARKER, start);
  return end < 0 ? undefined : readme.slice(start + beginMarker(id).length, end).trim();
}

/** The README with every verb's block replaced by the table rendered now (for regenerating it). */
export function renderReadme(readme: string, blocks: ReadonlyArray<{ id: string; tables: OptionTable[] }>): string {
  let out = readme;
  for (const b of blocks) {
    const start = out.indexOf(beginMarker(b.id));
    if (start < 0) continue;
    const end = out.indexOf(END_MARKER, start);
    out = out.slice(0, start) + `${beginMarker(b.id)}\n${markdownTable(b.tables)}\n` + out.slice(end);
  }
  return out;
}
