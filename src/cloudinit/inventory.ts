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
 * the defaults of every entry; each VM is written to OUTPUT_DIR/<hostname> unless it names its own
 * output-dir. Every entry is validated before anything is written: one bad entry, nothing written.
 */
import { readFile } from 'node:fs/promises';
import { dirname, join, resolve as resolvePath } from 'node:path';
import { parse } from 'yaml';
import { QksError } from '../errors.js';
import { FIELDS, resolveArtifactsConfig, type ArtifactsConfig, type ArtifactsFlags, type EntryValues, type FieldKey, type ResolveOptions } from './config.js';

const BY_INVENTORY_KEY = new Map<string, FieldKey>(Object.entries(FIELDS).map(([k, f]) => [f.inventory, k as FieldKey]));

/** Plural spellings of the repeatable keys. */
const PLURALS: Record<string, FieldKey> = { 'api-addresses': 'apiAddresses', 'apk-repositories': 'apkRepositories' };

/** Fields that are per run, not per VM. */
const NOT_PER_VM = new Set<FieldKey>(['createIso', 'templateDir']);

export interface InventoryEntry {
  label: string;
  values: EntryValues;
}

/**
 * Parses inventory text into entries and the problems of their shape (unknown keys, non-mappings);
 * values are checked by resolveArtifactsConfig.
 */
export function parseInventory(text: string, name: string): { entries: InventoryEntry[]; problems: string[] } {
  let doc: unknown;
  try {
    doc = parse(text, { version: '1.1', uniqueKeys: true });
  } catch (e) {
    throw new QksError('CONFIG_INVALID', `${name}: not valid YAML: ${(e as Error).message.split('\n')[0]}`, { hint: 'Fix the inventory file.' });
  }
  const list = Array.isArray(doc) ? doc : doc && typeof doc === 'object' ? (doc as Record<string, unknown>).vms : undefined;
  if (!Array.isArray(list) || list.length === 0) {
    throw new QksError('CONFIG_INVALID', `${name}: expected a non-empty list "vms:" of entries (hostname, ssh-key, ip, ...)`, {
      hint: 'See `qemu-kubesolo artifacts --help` for an inventory example.',
    });
  }
  const problems: string[] = [];
  const entries = list.map((item, i): InventoryEntry => {
    const label = `vms[${i}]`;
    const values: EntryValues = {};
    if (!item || typeof item !== 'object' || Array.isArray(item)) {
      problems.push(`${label}: must be a mapping (hostname: ..., ssh-key: ...)`);
      return { label, values };
    }
    for (const [rawKey, value] of Object.entries(item as Record<string, unknown>)) {
      const key = BY_INVENTORY_KEY.get(rawKey.replace(/_/g, '-')) ?? PLURALS[rawKey.replace(/_/g, '-')];
      if (!key || NOT_PER_VM.has(key)) {
        problems.push(`${label}.${rawKey}: unknown key (known: ${[...BY_INVENTORY_KEY.keys()].filter((k) => !NOT_PER_VM.has(BY_INVENTORY_KEY.get(k)!)).join(', ')})`);
        continue;
      }
      if (value === null || value === undefined) continue;
      if (key === 'apiAddresses' || key === 'dns' || key === 'apkRepositories') values[key] = Array.isArray(value) ? value : [value];
      else values[key] = value;
    }
    return { label: typeof (item as Record<string, unknown>).hostname === 'string' ? `${label} (${(item as Record<string, unknown>).hostname as string})` : label, values };
  });
  return { entries, problems };
}

/**
 * Resolves every entry of an inventory file against the flags and environment. Each VM's output
 * directory is OUTPUT_DIR/<hostname> (or its own output-dir). Throws one CONFIG_INVALID listing every
 * bad entry; nothing is written by this function.
 */
export async function resolveInventory(file: string, flags: ArtifactsFlags, options: ResolveOptions = {}): Promise<ArtifactsConfig[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new QksError('INPUT_NOT_FOUND', `cannot read the inventory ${file} (${(e as NodeJS.ErrnoException).code ?? 'error'})`, {
      hint: 'Pass the path of a YAML file with a "vms:" list.',
    });
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
    throw new QksError('CONFIG_INVALID', `${file}: ${problems.length} problem(s): ${problems.join('; ')}`, {
      hint: 'Fix the entries named above; nothing was written.',
      details: { problems },
    });
  }
  return configs;
}
