/**
 * Many VMs from one inventory file:
 *
 *   vms:
 *     - hostname: node-01
 *       ssh-key: ssh-ed25519 AAAA... ops@example.com
 *       ip: 192.168.122.51/24
 *       gateway: 192.168.122.1
 *     - hostname: node-02
 *       api-address: [203.0.113.12, node-02.example.com]
 *
 * Keys are the flag names without "--" (snake_case works too). Flags and environment variables give
 * the defaults of every entry; each VM is written to OUTPUT_DIR/<hostname>, or OUTPUT_DIR/<its
 * output-dir> (relative, no ".."). Every entry is validated before anything is written: one bad entry, nothing written.
 */
import { dirname, isAbsolute, join, normalize, resolve as resolvePath, sep } from 'node:path';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, visit, type Node } from 'yaml';
import { isQksError, QksError } from '../errors.js';
import { inventoryMissing, inventoryNotYaml, inventoryProblems, inventoryTagProblems, inventoryUnreadable, inventoryWithoutVms } from './errors.js';
import { readInputText } from '../files/read.js';
import { FIELDS, resolveArtifactsConfig, type ArtifactsConfig, type ArtifactsFlags, type EntryValues, type FieldKey, type ResolveOptions } from './config.js';

const BY_INVENTORY_KEY = new Map<string, FieldKey>(Object.entries(FIELDS).map(([k, f]) => [f.inventory, k as FieldKey]));

/** Plural spellings of the repeatable keys. */
const PLURALS: Record<string, FieldKey> = { 'api-addresses': 'apiAddresses', 'apk-repositories': 'apkRepositories' };

/** Fields that are per run, not per VM. */
const NOT_PER_VM = new Set<FieldKey>(['createIso', 'templateDir']);

export interface InventoryEntry {
  label: string;
  values: EntryValues;
  /** `file:line` of each key of the entry, for errors. */
  at: Partial<Record<FieldKey, string>>;
}

/** Explicit tags an inventory may carry (the standard ones); anything else is refused, as in templates (render.ts). */
const STANDARD_TAGS = new Set(['str', 'int', 'float', 'bool', 'null', 'seq', 'map'].map((t) => `tag:yaml.org,2002:${t}`));

/**
 * Parses inventory text into entries and the problems of their shape (unknown keys, non-mappings);
 * values are checked by resolveArtifactsConfig.
 */
export function parseInventory(text: string, name: string): { entries: InventoryEntry[]; problems: string[] } {
  const lines = new LineCounter();
  // uniqueKeys off: the library's check is quadratic in a mapping's size; duplicates are found below
  const doc = parseDocument(text, { version: '1.1', uniqueKeys: false, lineCounter: lines, prettyErrors: false });
  const at = (node: Node | null | undefined): string => (node?.range ? `${name}:${lines.linePos(node.range[0]).line}` : name);
  const err = doc.errors[0];
  if (err) {
    throw inventoryNotYaml(name, lines.linePos(err.pos[0]).line, err.message);
  }
  // an unknown tag would otherwise be a library warning on stderr and its value used as text
  const tagProblems: string[] = [];
  visit(doc, {
    Node(_key, node) {
      if (node.tag && !STANDARD_TAGS.has(node.tag)) tagProblems.push(`${at(node)}: unknown tag ${node.tag} (an inventory takes plain YAML values)`);
    },
    Map(_key, node) {
      const seen = new Set<unknown>();
      for (const pair of node.items) {
        const k = isScalar(pair.key) ? pair.key.value : pair.key;
        if (seen.has(k)) tagProblems.push(`${at(pair.key as Node)}: duplicate key "${String(k)}"`);
        seen.add(k);
      }
    },
  });
  if (tagProblems.length) throw inventoryTagProblems(tagProblems);
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 100 });
  } catch (e) {
    throw inventoryUnreadable(name, (e as Error).message);
  }
  const root = doc.contents;
  const listNode = isSeq(root) ? root : isMap(root) ? root.get('vms', true) : undefined;
  const list = Array.isArray(data) ? data : data && typeof data === 'object' ? (data as Record<string, unknown>).vms : undefined;
  if (!Array.isArray(list) || list.length === 0) {
    throw inventoryWithoutVms(name);
  }
  const problems: string[] = [];
  const entries = list.map((item, i): InventoryEntry => {
    const label = `vms[${i}]`;
    const values: EntryValues = {};
    const keyAt: InventoryEntry['at'] = {};
    if (!item || typeof item !== 'object' || Array.isArray(item)) {
      problems.push(`${label}: must be a mapping (hostname: ..., ssh-key: ...)`);
      return { label, values, at: keyAt };
    }
    const itemNode = isSeq(listNode) ? listNode.items[i] : undefined;
    const lineOfKey = new Map<string, string>();
    if (isMap(itemNode)) for (const pair of itemNode.items) if (isScalar(pair.key)) lineOfKey.set(String(pair.key.value), at(pair.key));
    for (const [rawKey, value] of Object.entries(item as Record<string, unknown>)) {
      const key = BY_INVENTORY_KEY.get(rawKey.replace(/_/g, '-')) ?? PLURALS[rawKey.replace(/_/g, '-')];
      if (!key || NOT_PER_VM.has(key)) {
        problems.push(`${label}.${rawKey}: unknown key (known: ${[...BY_INVENTORY_KEY.keys()].filter((k) => !NOT_PER_VM.has(BY_INVENTORY_KEY.get(k)!)).join(', ')})`);
        continue;
      }
      keyAt[key] = lineOfKey.get(rawKey) ?? at(itemNode as Node | undefined);
      if (value === null || value === undefined) continue;
      if (key === 'apiAddresses' || key === 'dns' || key === 'sshKeys' || key === 'apkRepositories') values[key] = Array.isArray(value) ? value : [value];
      else values[key] = value;
    }
    return { label: typeof (item as Record<string, unknown>).hostname === 'string' ? `${label} (${(item as Record<string, unknown>).hostname as string})` : label, values, at: keyAt };
  });
  return { entries, problems };
}

/**
 * An entry's own output-dir, inside the run's --output-dir: relative, without "..", so one inventory
 * line cannot send a seed to /etc. Returns the directory, or the problem.
 */
export function entryOutputDir(base: string, value: string): string | { problem: string } {
  if (isAbsolute(value)) return { problem: `must be relative to --output-dir (got the absolute path ${value})` };
  const rel = normalize(value);
  if (rel === '..' || rel.startsWith(`..${sep}`) || value.split(/[\\/]/).includes('..')) return { problem: `must stay inside --output-dir: ".." is not allowed (got ${value})` };
  return join(base, rel);
}

/**
 * Resolves every entry of an inventory file against the flags and environment. Each VM's output
 * directory is OUTPUT_DIR/<hostname> (or its own output-dir). Throws one CONFIG_INVALID listing every
 * bad entry; nothing is written by this function.
 */
export async function resolveInventory(file: string, flags: ArtifactsFlags, options: ResolveOptions = {}): Promise<ArtifactsConfig[]> {
  let text: string;
  try {
    text = await readInputText(file, 'inventory', { what: '--inventory', signal: options.signal });
  } catch (e) {
    if (!isQksError(e, 'INPUT_NOT_FOUND')) throw e;
    throw inventoryMissing(file);
  }
  const { entries, problems } = parseInventory(text, file);
  // Settings that name one machine never apply to all of them: they come from the entries only.
  const shared: ArtifactsFlags = { ...flags, hostname: undefined, instanceId: undefined, ip: undefined, gateway: undefined };
  const env = { ...(options.env ?? process.env) };
  for (const k of ['hostname', 'instanceId', 'ip', 'gateway'] as const) delete env[FIELDS[k].env];
  options = { ...options, env };
  const base = (await resolveArtifactsConfig(shared, options)).outputDir;
  const configs: ArtifactsConfig[] = [];
  for (const entry of entries) {
    if (entry.values.hostname === undefined) {
      problems.push(`${entry.label}.hostname: every entry needs a hostname`);
      continue;
    }
    try {
      const c = await resolveArtifactsConfig(shared, { ...options, cwd: dirname(resolvePath(file)), entry });
      if (entry.values.outputDir === undefined) c.outputDir = join(base, c.hostname);
      else {
        const dir = entryOutputDir(base, c.outputDir);
        if (typeof dir !== 'string') {
          problems.push(`${entry.at.outputDir ?? file}: ${entry.label}.output-dir: ${dir.problem}`);
          continue;
        }
        c.outputDir = dir;
      }
      configs.push(c);
    } catch (e) {
      if (e instanceof QksError && e.code === 'CONFIG_INVALID') problems.push(...((e.details.problems as string[] | undefined) ?? [e.message]));
      else throw e;
    }
  }
  const seen = new Map<string, string>();
  for (const c of configs) {
    const dir = resolvePath(c.outputDir);
    const other = seen.get(dir);
    if (other) problems.push(`${c.hostname}: writes to ${dir}, like ${other}: hostnames (or output-dir) must be unique`);
    seen.set(dir, c.hostname);
  }
  if (problems.length) {
    throw inventoryProblems(file, problems);
  }
  return configs;
}
