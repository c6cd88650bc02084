/**
 * What a kubeconfig must look like before we write it anywhere: the zod schema (unknown fields kept),
 * and the parser that turns untrusted bytes from a guest into a checked document or a KUBECONFIG_INVALID.
 *
 * Error messages never quote the file: it holds private keys and tokens.
 */
import { parseDocument, type Document } from 'yaml';
import { z } from 'zod';
import { QksError, zodIssuesToMessage } from '../errors.js';
import { kubeconfigInvalid, kubeconfigTooLarge } from './errors.js';

/** Kubesolo's admin kubeconfig is about 6 KiB; anything past this bound is not one (or is hostile). */
export const MAX_KUBECONFIG_BYTES = 1024 * 1024;

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

export type Kubeconfig = z.infer<typeof KubeconfigSchema>;
export type KubeconfigCluster = z.infer<typeof ClusterSchema>;

export interface ParsedKubeconfig {
  /** The text as received (UTF-8). Rewrites splice into it so everything else stays byte-for-byte. */
  text: string;
  /** The YAML document (source ranges kept) that rewrites edit. */
  doc: Document.Parsed;
  config: Kubeconfig;
}

/** Parses untrusted bytes as a kubeconfig (YAML or JSON). Throws KUBECONFIG_INVALID naming what is wrong. */
export function parseKubeconfig(data: string | Uint8Array, maxBytes = MAX_KUBECONFIG_BYTES): ParsedKubeconfig {
  const size = typeof data === 'string' ? Buffer.byteLength(data) : data.byteLength;
  if (size > maxBytes) throw kubeconfigTooLarge(maxBytes, size);
  let text: string;
  try {
    text = typeof data === 'string' ? data : new TextDecoder('utf-8', { fatal: true }).decode(data);
  } catch {
    throw kubeconfigInvalid('is not UTF-8 text');
  }
  // an empty file is what a reader sees while Kubesolo is writing it: worth another try under --wait
  if (text.trim() === '') throw kubeconfigInvalid('is empty', { retryable: true, details: { bytes: size } });
  if (text.includes('\0')) throw kubeconfigInvalid('contains NUL bytes: not a kubeconfig');
  // prettyErrors off: its messages quote source lines, and this source holds keys
  const doc = parseDocument(text, { prettyErrors: false, uniqueKeys: true, keepSourceTokens: false });
  if (doc.errors.length) {
    const e = doc.errors[0]!;
    const at = e.linePos?.[0] ? ` at line ${e.linePos[0].line}, column ${e.linePos[0].col}` : '';
    throw kubeconfigInvalid(`is not valid YAML${at}: ${e.message.split('\n')[0]}`);
  }
  let js: unknown;
  try {
    js = doc.toJS({ maxAliasCount: 100 });
  } catch (e) {
    throw kubeconfigInvalid(`cannot be read as YAML: ${(e as Error).message.split('\n')[0]}`);
  }
  if (js === null || typeof js !== 'object' || Array.isArray(js)) throw kubeconfigInvalid('is not a YAML mapping');
  const r = KubeconfigSchema.safeParse(js);
  if (!r.success) throw kubeconfigInvalid(`is not a kubeconfig: ${zodIssuesToMessage(r.error.issues)}`);
  return { text, doc, config: r.data };
}
