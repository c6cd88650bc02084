/**
 * `kubeconfig --merge`: the VM's cluster, user and context put into the user's kubeconfig under one
 * name of their own (names are keys; merging files whose entries share names keeps the
 * first, so users see "unknown authority" — k3sup #316). Every other entry, comment and key order of
 * the file stays; an entry of the same name is replaced; `useContext` sets current-context.
 *
 * Pure: text in, text out. The file, its lock and the backup are handled in merge-file.ts.
 */
import { isDeepStrictEqual } from 'node:util';
import { isMap, isSeq, parseDocument, type Document } from 'yaml';
import { mergeNotProven, mergeTargetInvalid } from './errors.js';
import type { MergeEntries } from './merge-entries.js';

/** A kubeconfig bigger than this is not one a person keeps (kubectl's own are kilobytes). */
export const MAX_MERGE_TARGET_BYTES = 16 * 1024 * 1024;

const LISTS = ['clusters', 'users', 'contexts'] as const;
type ListKey = (typeof LISTS)[number];
const BODY: Record<ListKey, string> = { clusters: 'cluster', users: 'user', contexts: 'context' };


/** Checks the parsed target is a kubeconfig we may edit; returns its JS value. */
function checkTarget(doc: Document.Parsed, text: string, file: string): Record<string, unknown> {
  if (doc.errors.length) {
    // the position only: messages with source lines would quote the file, and it holds keys
    const pos = doc.errors[0]!.pos[0];
    const before = text.slice(0, pos);
    const line = before.split('\n').length;
    throw mergeTargetInvalid(file, `not valid YAML at line ${line}, column ${pos - before.lastIndexOf('\n')}`);
  }
  let js: unknown;
  try {
    js = doc.toJS({ maxAliasCount: 100 });
  } catch {
    throw mergeTargetInvalid(file, 'its YAML cannot be read (aliases)');
  }
  if (js === null || js === undefined) return {};
  if (typeof js !== 'object' || Array.isArray(js)) throw mergeTargetInvalid(file, 'not a YAML mapping');
  const k = js as Record<string, unknown>;
  if (k.kind !== undefined && k.kind !== null && k.kind !== 'Config') throw mergeTargetInvalid(file, `its kind is ${JSON.stringify(k.kind)}, not Config`);
  if (k.apiVersion !== undefined && k.apiVersion !== null && k.apiVersion !== 'v1') throw mergeTargetInvalid(file, `its apiVersion is ${JSON.stringify(k.apiVersion)}, not v1`);
  for (const key of LISTS) {
    const v = k[key];
    if (v === undefined || v === null) continue;
    if (!Array.isArray(v)) throw mergeTargetInvalid(file, `${key} is not a list`);
    v.forEach((item: unknown, i) => {
      if (item === null || typeof item !== 'object' || typeof (item as { name?: unknown }).name !== 'string') throw mergeTargetInvalid(file, `${key}[${i}] has no name`);
    });
  }
  if (k['current-context'] !== undefined && k['current-context'] !== null && typeof k['current-context'] !== 'string') throw mergeTargetInvalid(file, 'current-context is not a string');
  if (!LISTS.some((key) => key in k) && !('kind' in k) && !('apiVersion' in k) && !('current-context' in k) && Object.keys(k).length) {
    throw mergeTargetInvalid(file, 'it has none of clusters, users, contexts, kind or apiVersion');
  }
  return k;
}

export interface MergeResult {
  text: string;
  /** Which of the three entries replaced one of the same name. */
  replaced: { cluster: boolean; user: boolean; context: boolean };
  /** The current-context before and after. */
  currentContext: { from?: string; to?: string };
}

/**
 * Merges `entries` into the kubeconfig text `target` ('' for a new file) under `name`. Throws
 * MERGE_TARGET_INVALID for a target that is not a kubeconfig. The result is proven by a re-parse to be
 * the target with exactly those three entries (and current-context) set.
 */
export function mergeKubeconfig(target: string, entries: MergeEntries, opts: { name: string; useContext: boolean; file: string }): MergeResult {
  const { name, file } = opts;
  if (Buffer.byteLength(target) > MAX_MERGE_TARGET_BYTES) throw mergeTargetInvalid(file, `it is larger than ${MAX_MERGE_TARGET_BYTES} bytes`);
  if (target.includes('\0')) throw mergeTargetInvalid(file, 'it contains NUL bytes');
  const doc = parseDocument(target, { prettyErrors: false, uniqueKeys: true });
  const before = checkTarget(doc, target, file);
  const want = structuredClone(before) as Record<string, unknown>;
  if (!isMap(doc.contents)) {
    // an empty file, comments only, or `null`: a new kubeconfig
    doc.contents = doc.createNode({ apiVersion: 'v1', kind: 'Config' }) as never;
    Object.assign(want, { apiVersion: 'v1', kind: 'Config' });
  }
  const bodies: Record<ListKey, Record<string, unknown>> = {
    clusters: { cluster: entries.cluster },
    users: { user: entries.user },
    contexts: { context: { cluster: name, user: name, ...entries.context } },
  };
  const replaced = { cluster: false, user: false, context: false };
  for (const key of LISTS) {
    const entry = { name, ...bodies[key] };
    let seq = doc.get(key, true);
    if (!isSeq(seq)) {
      seq = doc.createNode([]);
      doc.set(key, seq);
    }
    const items = (seq as { items: unknown[] }).items;
    const at = ((before[key] as { name: string }[] | undefined | null) ?? []).findIndex((e) => e.name === name);
    const node = doc.createNode(entry);
    if (at >= 0) items[at] = node;
    else items.push(node);
    replaced[BODY[key] as keyof typeof replaced] = at >= 0;
    const list = [...((want[key] as unknown[] | undefined | null) ?? [])];
    if (at >= 0) list[at] = entry;
    else list.push(entry);
    want[key] = list;
  }
  const from = typeof before['current-context'] === 'string' ? (before['current-context'] as string) : undefined;
  if (opts.useContext) {
    doc.set('current-context', name);
    want['current-context'] = name;
  }
  const text = doc.toString({ lineWidth: 0 });
  const check = parseDocument(text, { prettyErrors: false, uniqueKeys: true });
  if (check.errors.length || !isDeepStrictEqual(check.toJS(), JSON.parse(JSON.stringify(want)))) {
    throw mergeNotProven();
  }
  const to = opts.useContext ? name : from;
  return { text, replaced, currentContext: { ...(from !== undefined ? { from } : {}), ...(to !== undefined ? { to } : {}) } };
}
