/**
 * The agent verb's rows validate with plain parsers (src/options/parsers.ts) so that it loads no zod:
 * they must say exactly what the zod schemas they replaced said (kept here as the reference).
 */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { AGENT_CAT_OPTIONS, AGENT_EXEC_OPTIONS, AGENT_TARGET_OPTIONS } from './agent.js';
import { libvirtUriOption } from './shared.js';
import type { OptionDef } from './table.js';
import { fromParser } from './zod.js';

const REFERENCE: Record<string, [OptionDef, z.ZodType]> = {
  socket: [AGENT_TARGET_OPTIONS.socket, z.string().min(1).optional()],
  vmName: [
    AGENT_TARGET_OPTIONS.vmName,
    z
      .string()
      .min(1, 'must not be empty')
      .max(200, 'is too long')
      .refine((s) => !/[/\0\n\r]/.test(s) && s !== '.' && s !== '..' && !s.startsWith('-'), 'must not contain "/" or line breaks, start with "-", or be . or ..'),
  ],
  libvirtUri: [AGENT_TARGET_OPTIONS.libvirtUri, z.string().min(1, 'must not be empty').optional()],
  libvirtUriWithDefault: [libvirtUriOption('qemu:///system'), z.string().min(1, 'must not be empty')],
  transport: [AGENT_TARGET_OPTIONS.transport, z.enum(['auto', 'direct', 'libvirt'], { error: 'must be auto, direct or libvirt' })],
  timeoutMs: [
    AGENT_TARGET_OPTIONS.timeoutMs,
    z.coerce
      .number({ error: 'must be a number of seconds, e.g. 3' })
      .positive('must be a positive number of seconds')
      .max(2_147_483, 'must be at most 2147483 seconds')
      .transform((s) => Math.round(s * 1000))
      .optional(),
  ],
  input: [AGENT_EXEC_OPTIONS.input, z.string().optional()],
  method: [AGENT_CAT_OPTIONS.method, z.enum(['file', 'exec', 'auto'], { error: 'must be file, exec or auto' })],
  maxBytes: [AGENT_CAT_OPTIONS.maxBytes, z.coerce.number({ error: 'must be a positive integer' }).int('must be a positive integer').positive('must be a positive integer').optional()],
};

// strings as flags and variables give them; other types as a library caller might (an empty array is
// left out: zod also runs a string's length check on it, a quirk no caller reaches)
const INPUTS: unknown[] = [
  undefined, '', 'x', '-x', '.', '..', 'a/b', 'a\nb', 'a\r', 'a\0', 'a'.repeat(200), 'a'.repeat(201), '-'.repeat(201), '3', '0', '-0', '-1', '1.5', '-1.5',
  '0.0001', 'abc', ' 4 ', ' ', '2147484', '2147483', '2147483.4', 'Infinity', '1e3', '1e300', '-1e300', '99999999999999999', '0x10', 'file', 'exec', 'auto', 'bogus',
  'direct', 'libvirt', 'qemu:///system', 5, 0, -1, 1.5, Number.NaN, true, false, null, {}, ['x'],
];

const summary = (r: { success: true; data: unknown } | { success: false; error: { issues: { path: PropertyKey[]; message: string }[] } }) =>
  r.success ? { value: r.data } : { issues: r.error.issues.map((i) => [i.path, i.message]) };

describe('plain parsers of the agent rows', () => {
  for (const [name, [row, reference]] of Object.entries(REFERENCE)) {
    it(`${name}: the same value or messages as its zod schema`, () => {
      expect(row.schema, name).toBeUndefined();
      const plain = fromParser(row.parse!);
      for (const v of INPUTS) expect(summary(plain.safeParse(v)), `${name} ${JSON.stringify(v)}`).toEqual(summary(reference.safeParse(v)));
    });
  }
});
