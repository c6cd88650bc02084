/**
 * The rules of ./fields.ts as zod schemas, as they were before the artifacts verb lost zod: the
 * reference config.test.ts compares the plain parsers and the configuration check with (and what
 * ArtifactsConfigSchema's semantics are). Not on the CLI's path.
 */
import { z } from 'zod';
import * as F from './fields.js';
import { checkPasswordHash } from './password.js';
import { parseSshPublicKey } from './ssh-key.js';

const text = (...checks: readonly F.Check[]) =>
  checks.reduce<z.ZodType<string>>(
    (s, [test, error, abort]) => (s as z.ZodString).refine(test, { error, ...(abort ? { abort } : {}) }),
    z.string().refine((s) => !F.CONTROL_CHARS.test(s), { error: F.NO_CONTROL, abort: true }),
  );
const textWhy = (f: (s: string) => string | undefined) =>
  text().superRefine((s, ctx) => {
    const m = f(s);
    if (m) ctx.addIssue({ code: 'custom', message: m });
  });

export const ZOD_FIELDS = {
  hostname: text([(s) => F.LABEL.test(s), F.HOSTNAME_MESSAGE]),
  username: text(...F.USERNAME_CHECKS),
  password: z
    .string()
    .refine((s) => !F.CONTROL_CHARS.test(s), { error: F.NO_CONTROL, abort: true })
    .min(1, { error: 'must not be empty' })
    .max(1024, { error: 'is longer than 1024 characters' }),
  passwordHash: textWhy(checkPasswordHash),
  sshKey: z.string().transform((s, ctx) => {
    const k = parseSshPublicKey(s);
    if (typeof k === 'string') {
      ctx.addIssue({ code: 'custom', message: k });
      return z.NEVER;
    }
    if (F.CONTROL_CHARS.test(k.line)) {
      ctx.addIssue({ code: 'custom', message: F.NO_CONTROL });
      return z.NEVER;
    }
    return k.line;
  }),
  version: text(F.VERSION_CHECK),
  arch: z.enum(F.ARCHES, { error: F.ARCH_MESSAGE }),
  instanceId: text(F.INSTANCE_ID_CHECK),
  ip: text(F.IP_CHECK),
  cidr: text(F.CIDR_CHECK),
  apiAddress: text(...F.API_ADDRESS_CHECKS),
  kubesoloUrl: textWhy(F.kubesoloUrlProblem),
  apkRepository: textWhy(F.apkRepositoryProblem),
  interface: text(F.INTERFACE_CHECK),
  path: z
    .string()
    .refine((s) => !F.CONTROL_CHARS.test(s), { error: F.NO_CONTROL, abort: true })
    .min(1, { error: 'must not be empty' }),
  bool: z.boolean({ error: F.BOOL_MESSAGE }),
};
