/**
 * The kubeconfig's shape as a zod schema (unknown fields kept), for library callers (src/low-level.ts)
 * and as the reference src/kubeconfig/schema.ts's plain check is tested against: the CLI does not load
 * zod to read a kubeconfig (bench/startup.md).
 */
import { z } from 'zod';

export const ClusterSchema = z.looseObject({
  server: z.string().min(1, 'must be the API server URL'),
  'certificate-authority-data': z.string().optional(),
  'certificate-authority': z.string().optional(),
  'tls-server-name': z.string().optional(),
  'insecure-skip-tls-verify': z.boolean().optional(),
});

export const KubeconfigSchema = z
  .looseObject({
    apiVersion: z.string().optional(),
    kind: z.string().optional(),
    clusters: z.array(z.looseObject({ name: z.string().min(1), cluster: ClusterSchema })).min(1, 'has no clusters'),
    users: z.array(z.looseObject({ name: z.string().min(1), user: z.looseObject({}).nullable() })).min(1, 'has no users'),
    contexts: z
      .array(z.looseObject({ name: z.string().min(1), context: z.looseObject({ cluster: z.string(), user: z.string(), namespace: z.string().optional() }) }))
      .min(1, 'has no contexts'),
    'current-context': z.string().optional(),
  })
  .superRefine((k, ctx) => {
    const cur = k['current-context'];
    if (cur && !k.contexts.some((c) => c.name === cur)) {
      ctx.addIssue({ code: 'custom', path: ['current-context'], message: `names context "${cur}", which is not in contexts` });
    }
  });

