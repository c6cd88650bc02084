/** The project's own source, for the house-rule tests that read it (errors, handlers, imports). */
import { readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const SRC = resolve(__dirname, '../../src');

/** Every module under src/ (absolute paths), tests left out; `skip` leaves out whole folders. */
export function sourceFiles(skip: string[] = []): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d)) {
      const p = join(d, e);
      if (statSync(p).isDirectory()) {
        if (!skip.includes(p)) walk(p);
      } else if (p.endsWith('.ts') && !p.endsWith('.test.ts')) out.push(p);
    }
  };
  walk(SRC);
  return out;
}
