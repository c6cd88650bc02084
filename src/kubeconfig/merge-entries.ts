/**
 * What --merge takes from the VM's kubeconfig, and which names it accepts: no YAML here, so the
 * kubeconfig verb checks its options and reads its entries without loading the yaml library
 * (the merge itself, ./merge.ts, edits yaml's document model).
 */
import { kubeconfigContextDangling } from './errors.js';
import type { Kubeconfig } from './schema.js';

/** What the VM contributes: its current context's cluster, user and context bodies. */
export interface MergeEntries {
  cluster: Record<string, unknown>;
  user: Record<string, unknown>;
  context: { namespace?: string } & Record<string, unknown>;
}

/** The entries of `config`'s current context (else its first). Pure. */
export function entriesOf(config: Kubeconfig): MergeEntries {
  const ctx = config.contexts.find((c) => c.name === config['current-context']) ?? config.contexts[0]!;
  const cluster = config.clusters.find((c) => c.name === ctx.context.cluster);
  const user = config.users.find((u) => u.name === ctx.context.user);
  if (!cluster || !user) {
    throw kubeconfigContextDangling(ctx.name);
  }
  const { cluster: _c, user: _u, ...rest } = ctx.context;
  return { cluster: { ...cluster.cluster }, user: { ...(user.user ?? {}) }, context: rest };
}

/** A name usable for a cluster, user and context: printable, one line, not empty. */
export function contextNameProblem(name: string): string | undefined {
  if (!name) return 'must not be empty';
  if (name.length > 253) return 'is too long (at most 253 characters)';
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x1f\x7f]/.test(name)) return 'must not contain control characters or line breaks';
  return undefined;
}
