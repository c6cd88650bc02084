/** The iso rows' plain parsers give what their zod schemas gave (the schemas as they were, inline). */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { MAX_EPOCH } from '../iso/records.js';
import { VOLUME_ID_PATTERN } from '../iso/build.js';
import { ISO_OPTIONS } from './iso.js';

const ZOD: Record<keyof typeof ISO_OPTIONS, z.ZodType> = {
  out: z.string().min(1, 'must not be empty'),
  label: z.string().regex(VOLUME_ID_PATTERN, 'may hold only letters, digits, "_" and "-", 1 to 16 of them'),
  epoch: z
    .string()
    .regex(/^\d{1,12}$/, 'must be whole seconds since 1970, e.g. 1700000000')
    .transform(Number)
    .refine((n) => n <= MAX_EPOCH, `must be at most ${MAX_EPOCH} (year 2155)`)
    .optional(),
  printHash: z.boolean(),
  selinux: z.boolean(),
};
const VALUES = [undefined, '', 'x', 'cidata', 'a'.repeat(17), 'a b', '0', '1700000000', String(MAX_EPOCH), String(MAX_EPOCH + 1), '9'.repeat(13), '-1', '1.5', 5, true, false, null];

describe('iso option rows against their zod schemas', () => {
  for (const row of Object.keys(ZOD) as (keyof typeof ISO_OPTIONS)[]) {
    it.each(VALUES.map((v) => [v]))(`${row} %j`, (v) => {
      const z = ZOD[row].safeParse(v);
      const p = ISO_OPTIONS[row].parse(v);
      const messages = p.ok ? undefined : typeof p.message === 'string' ? [p.message] : [...p.message];
      expect(p.ok ? { data: p.value } : { messages }).toStrictEqual(z.success ? { data: z.data } : { messages: z.error.issues.map((i) => i.message) });
    });
  }
});
