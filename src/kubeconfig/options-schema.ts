/**
 * The `kubeconfig` options as one zod schema, for library callers that compose schemas: the rows'
 * parsers wrapped (src/options/zod.ts) and the same checks across options. Apart from ./options.ts so
 * that the verb itself loads no zod (bench/startup.md).
 */
import { objectSchema } from '../options/zod.js';
import { KUBECONFIG_OPTIONS } from '../options/kubeconfig.js';
import { crossOptionProblems } from './options.js';

function build() {
  return objectSchema(KUBECONFIG_OPTIONS).superRefine((o: Record<string, unknown>, ctx) => {
    for (const i of crossOptionProblems(o)) ctx.addIssue({ code: 'custom', path: i.path, message: i.message });
  });
}

let schema: ReturnType<typeof build> | undefined;
/** The whole validation (rows + checks across them), built on first use. */
export function kubeconfigOptionsSchema(): ReturnType<typeof build> {
  return (schema ??= build());
}
