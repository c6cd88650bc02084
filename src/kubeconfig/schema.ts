/**
 * What a kubeconfig must look like before we write it anywhere, and the parser that turns untrusted
 * bytes from a guest into a checked document or a KUBECONFIG_INVALID. The check is plain code giving
 * what the zod schema in ./schema-zod.ts gives (the same messages and output: schema.test.ts compares
 * them), so that reading a kubeconfig loads no zod (bench/startup.md).
 *
 * Error messages never quote the file: it holds private keys and tokens.
 */
import { parseDocument, type Document } from 'yaml';
import type { z } from 'zod';
import { QksError, zodIssuesToMessage } from '../errors.js';
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
  const r = checkKubeconfig(js);
  if (!r.ok) throw kubeconfigInvalid(`is not a kubeconfig: ${zodIssuesToMessage(r.issues)}`);
  return { text, doc, config: r.config };
}
