/**
 * What a kubeconfig must look like before we write it anywhere: the checks that turn untrusted bytes
 * from a guest into a checked document or a KUBECONFIG_INVALID, around the YAML reading (./document.ts
 * reads, ./block-yaml.ts or ./yaml-library.ts parse). The check is plain code giving what the zod
 * schema in ./schema-zod.ts gives (the same messages and output: schema.test.ts compares them), so
 * that reading a kubeconfig loads no zod (bench/startup.md).
 *
 * Error messages never quote the file: it holds private keys and tokens.
 */
import type { z } from 'zod';
import type { BlockDocument, BlockNode } from './block-yaml.js';
import { zodIssuesToMessage } from '../errors.js';
import { kubeconfigInvalid, kubeconfigTooLarge } from './errors.js';
import type { ClusterSchema, KubeconfigSchema } from './schema-zod.js';

/** Kubesolo's admin kubeconfig is about 6 KiB; anything past this bound is not one (or is hostile). */
export const MAX_KUBECONFIG_BYTES = 1024 * 1024;

export type Kubeconfig = z.infer<typeof KubeconfigSchema>;
export type KubeconfigCluster = z.infer<typeof ClusterSchema>;

/** `fatal`: a wrong type (zod then skips the refinement below); a failed length check is not. */
type Issue = { path: PropertyKey[]; message: string; fatal?: true };
type Check = (v: unknown, path: PropertyKey[], issues: Issue[]) => unknown;

/** zod's name for a value's type in "expected string, received X". */
const received = (v: unknown): string => (v === null ? 'null' : Array.isArray(v) ? 'array' : Number.isNaN(v) ? 'NaN' : typeof v);
const expected = (type: string, v: unknown) => `Invalid input: expected ${type}, received ${received(v)}`;

const str =
  (min?: string): Check =>
  (v, path, issues) => {
    if (typeof v !== 'string') issues.push({ path, message: expected('string', v), fatal: true });
    else if (min !== undefined && v.length < 1) issues.push({ path, message: min });
    return v;
  };
const NAME = str('Too small: expected string to have >=1 characters');
const bool: Check = (v, path, issues) => (typeof v !== 'boolean' && issues.push({ path, message: expected('boolean', v), fatal: true }), v);
const optional =
  (c: Check): Check =>
  (v, path, issues) =>
    v === undefined ? v : c(v, path, issues);

/** zod's looseObject: the shape's keys (in its order, those present), then the others as they are. */
const loose =
  (shape: Record<string, Check>): Check =>
  (v, path, issues) => {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) {
      issues.push({ path, message: expected('object', v), fatal: true });
      return v;
    }
    const input = v as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    for (const [k, check] of Object.entries(shape)) {
      const r = check(input[k], [...path, k], issues);
      if (k in input) out[k] = r;
    }
    for (const k of Object.keys(input)) if (!(k in shape)) out[k] = input[k];
    return out;
  };
const nullable =
  (c: Check): Check =>
  (v, path, issues) =>
    v === null ? v : c(v, path, issues);
const array =
  (item: Check, empty: string): Check =>
  (v, path, issues) => {
    if (!Array.isArray(v)) {
      issues.push({ path, message: expected('array', v), fatal: true });
      return v;
    }
    const out = v.map((x, i) => item(x, [...path, i], issues));
    if (v.length < 1) issues.push({ path, message: empty });
    return out;
  };

const cluster = loose({
  server: str('must be the API server URL'),
  'certificate-authority-data': optional(str()),
  'certificate-authority': optional(str()),
  'tls-server-name': optional(str()),
  'insecure-skip-tls-verify': optional(bool),
});
const kubeconfig = loose({
  apiVersion: optional(str()),
  kind: optional(str()),
  clusters: array(loose({ name: NAME, cluster }), 'has no clusters'),
  users: array(loose({ name: NAME, user: nullable(loose({})) }), 'has no users'),
  contexts: array(loose({ name: NAME, context: loose({ cluster: str(), user: str(), namespace: optional(str()) }) }), 'has no contexts'),
  'current-context': optional(str()),
});

/** KubeconfigSchema.safeParse without zod: the checked copy, or zod's issues. */
export function checkKubeconfig(v: unknown): { ok: true; config: Kubeconfig } | { ok: false; issues: Issue[] } {
  const issues: Issue[] = [];
  const out = kubeconfig(v, [], issues) as Kubeconfig;
  // the schema's refinement, which zod runs unless a value had the wrong type
  if (!issues.some((i) => i.fatal)) {
    const cur = out['current-context'];
    if (cur && !out.contexts.some((c) => c.name === cur)) issues.push({ path: ['current-context'], message: `names context "${cur}", which is not in contexts` });
  }
  return issues.length ? { ok: false, issues } : { ok: true, config: out };
}

export interface ParsedKubeconfig {
  /** The text as received (UTF-8). Rewrites splice into it so everything else stays byte-for-byte. */
  text: string;
  /** Where each node sits in `text` (source ranges): what rewrites splice into. */
  tree: BlockNode;
  /** The whole document as plain values, unchecked fields included. */
  js: Record<string, unknown>;
  config: Kubeconfig;
}

/** The text of untrusted kubeconfig bytes, or KUBECONFIG_INVALID / KUBECONFIG_TOO_LARGE before any YAML is read. */
export function kubeconfigText(data: string | Uint8Array, maxBytes = MAX_KUBECONFIG_BYTES): string {
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
  return text;
}

/** The parsed YAML of `text` checked as a kubeconfig. */
export function checkedKubeconfig(text: string, doc: BlockDocument): ParsedKubeconfig {
  const { js, tree } = doc;
  if (js === null || typeof js !== 'object' || Array.isArray(js)) throw kubeconfigInvalid('is not a YAML mapping');
  const r = checkKubeconfig(js);
  if (!r.ok) throw kubeconfigInvalid(`is not a kubeconfig: ${zodIssuesToMessage(r.issues)}`);
  return { text, tree, js: js as Record<string, unknown>, config: r.config };
}
