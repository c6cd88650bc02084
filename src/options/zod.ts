/**
 * The option tables as one zod object, for verbs that extend or refine it (kubeconfig, artifacts, iso).
 * Kept apart from ./table.ts so that verbs validating row by row (table.ts parseRows) load no zod.
 */
import { z } from 'zod';
import type { Parser } from './parsers.js';
import type { OptionDef, RowOutput } from './table.js';

const objectCache = new WeakMap<object, z.ZodObject>();

/** A plain parser (src/options/parsers.ts) as a zod schema, with the same messages. */
export function fromParser<T>(parse: Parser<T>): z.ZodType<T> {
  return z.unknown().transform((v, ctx) => {
    const r = parse(v);
    if (r.ok) return r.value;
    const issues = r.issues ?? (typeof r.message === 'string' ? [r.message] : r.message).map((message) => ({ path: [], message }));
    for (const i of issues) ctx.addIssue({ code: 'custom', message: i.message, path: [...i.path], input: v });
    return z.NEVER;
  }) as unknown as z.ZodType<T>;
}

/** A row as a zod schema: its own, or its plain parser wrapped. */
function rowSchema(d: OptionDef): z.ZodType {
  if (d.schema) return d.schema();
  if (!d.parse) throw new Error(`option table: ${d.flag} has neither schema nor parse`);
  return fromParser(d.parse);
}

/** The zod shape of a table: each row's schema (a parser row: a schema of its output type), keyed by field name. */
export type TableShape<T extends Record<string, unknown>> = {
  [K in keyof T]: T[K] extends { schema: () => infer S extends z.ZodType } ? S : z.ZodType<RowOutput<T[K]>>;
};

/** The table's rows as one zod object (built on first use, then cached). */
export function objectSchema<T extends Record<string, OptionDef>>(table: T): z.ZodObject<TableShape<T>> {
  let s = objectCache.get(table);
  if (!s) {
    s = z.object(Object.fromEntries(Object.entries(table).map(([k, d]) => [k, rowSchema(d)])));
    objectCache.set(table, s);
  }
  return s as unknown as z.ZodObject<TableShape<T>>;
}
