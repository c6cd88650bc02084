/**
 * cloud-init's own account of a boot: /var/lib/cloud/data/status.json. Each stage (init-local, init,
 * modules-config, modules-final) lists its errors; 24.x+ also lists recoverable errors by level.
 */
import { z } from 'zod';

const stageSchema = z
  .object({
    errors: z.array(z.string()).default([]),
    recoverable_errors: z.record(z.string(), z.array(z.string())).optional(),
    start: z.number().nullable().optional(),
    finished: z.number().nullable().optional(),
  })
  .loose();

export const statusSchema = z.object({
  v1: z
    .object({
      datasource: z.string().nullable(),
      'init-local': stageSchema.optional(),
      init: stageSchema.optional(),
      'modules-config': stageSchema.optional(),
      'modules-final': stageSchema.optional(),
      stage: z.string().nullable().optional(),
    })
    .loose(),
});
export type CloudInitStatus = z.infer<typeof statusSchema>;

export const STAGES = ['init-local', 'init', 'modules-config', 'modules-final'] as const;

export interface StageError {
  stage: (typeof STAGES)[number];
  text: string;
}

/** Every error of every stage, in stage order. */
export function statusErrors(status: CloudInitStatus): StageError[] {
  return STAGES.flatMap((stage) => (status.v1[stage]?.errors ?? []).map((text) => ({ stage, text })));
}

/** True when every stage ran to its end (a killed guest leaves `finished` empty). */
export function allStagesFinished(status: CloudInitStatus): boolean {
  return STAGES.every((s) => typeof status.v1[s]?.finished === 'number');
}

/**
 * An error the Debian guest is expected to report because the seed targets Alpine. `module` is the
 * cloud-init module named in the error text; `why` is said in the test report.
 */
export interface ExpectedError {
  stage: StageError['stage'];
  module: string;
  why: string;
}

/** Errors not covered by `expected`: each expected entry covers every error naming its module in its stage. */
export function unexpectedErrors(errors: StageError[], expected: ExpectedError[]): StageError[] {
  return errors.filter((e) => !expected.some((x) => x.stage === e.stage && e.text.includes(`'${x.module}'`)));
}
