/**
 * The artifacts configuration: flags > environment variables > defaults, gathered into one object and
 * validated (plain parsers, no zod: bench/startup.md; the zod schema for the library is ./config-zod.ts)
 * with errors that name the flag and the variable (or the inventory entry).
 */
import { homedir } from 'node:os';
import { isIPv4, isIPv6 } from 'node:net';
import { isAbsolute, join, resolve as resolvePath } from 'node:path';
import { isQksError } from '../errors.js';
import { configProblems, sshKeyFileMissing } from './errors.js';
import { ARCHES } from './fields.js';
import { ARTIFACTS_OPTIONS, splitList } from '../options/artifacts.js';
import { boolean, list, string } from '../options/parsers.js';
import { fieldNames, fromEnvOf, longFlag, type Given, type Parsed, type TableOutput } from '../options/table.js';
import { networkProblems } from './network.js';
import { parseSshPublicKey } from './ssh-key.js';
import { readInputText } from '../files/read.js';
import { readdir } from '../files/fs.js';
import type { CancelSignal } from '../cancel.js';

/** The guide's default password (console only; warned). Every other default is in the option table. */
export const DEFAULT_PASSWORD = 'alpine';

type Rows = typeof ARTIFACTS_OPTIONS;
export type FieldKey = keyof Rows;

/** The defaults of src/options/artifacts.ts, by field (kept for library callers). */
export const DEFAULTS = {
  hostname: ARTIFACTS_OPTIONS.hostname.default as string,
  username: ARTIFACTS_OPTIONS.username.default as string,
  password: DEFAULT_PASSWORD,
  autoInstallKubesolo: false,
  kubesoloVersion: ARTIFACTS_OPTIONS.kubesoloVersion.default as string,
  outputDir: ARTIFACTS_OPTIONS.outputDir.default as string,
  createIso: false,
  interface: ARTIFACTS_OPTIONS.interface.default as string,
} as const;

/** Each setting's flag, variable and inventory key (the flag without "--"), from the option table. */
export const FIELDS = Object.fromEntries(
  Object.entries(ARTIFACTS_OPTIONS).map(([k, d]) => [k, { flag: longFlag(d), env: d.env![0]!, inventory: longFlag(d).slice(2) }]),
) as Record<FieldKey, { flag: string; env: string; inventory: string }>;

/** The resolved, validated configuration of one VM's artifacts: the table's rows plus where values came from. */
export type ArtifactsConfig = TableOutput<Rows> & {
  /** True when no password was given and the guide's default ("alpine") is used. */
  defaultPassword: boolean;
  /** Where the keys came from: "flag", "env", "inventory" or the file each was read from. */
  sshKeySources: string[];
};

type Issue = { path: (string | number)[]; message: string };

/** The checks across fields, after each field's own (ArtifactsConfigSchema's superRefines, ./config-zod.ts). */
export function crossFieldIssues(c: ArtifactsConfig): Issue[] {
  const issues: Issue[] = [];
  if (c.kubesoloUrl && !c.autoInstallKubesolo) {
    issues.push({ path: ['kubesoloUrl'], message: 'needs --auto-install-kubesolo (AUTO_INSTALL_KUBESOLO) too: without it nothing downloads Kubesolo' });
  }
  if (!c.ip) {
    if (c.gateway) issues.push({ path: ['gateway'], message: 'needs a static address (--ip) too' });
    if (c.dns.length) issues.push({ path: ['dns'], message: 'needs a static address (--ip) too (with DHCP the DNS servers come from DHCP)' });
  } else {
    const v6 = isIPv6(c.ip.split('/')[0]!);
    if (c.gateway && (v6 ? !isIPv6(c.gateway) : !isIPv4(c.gateway))) issues.push({ path: ['gateway'], message: `must be an IPv${v6 ? 6 : 4} address like --ip` });
  }
  // networks that cannot work (network.ts); the interface name is checked with or without --ip
  for (const p of networkProblems(c)) issues.push({ path: p.index === undefined ? [p.field] : [p.field, p.index], message: p.message });
  return issues;
}

const EXTRA_ROWS = {
  defaultPassword: boolean,
  sshKeySources: list(string()),
} as const;

/**
 * What ArtifactsConfigSchema.safeParse gives, without zod: every row's parser in table order, then the
 * cross-field checks unless a field failed in a way zod does not go on from (`stop`). Compared with the
 * schema in config.test.ts.
 */
export function checkArtifactsConfig(raw: Record<string, unknown>): { success: true; data: ArtifactsConfig } | { success: false; issues: Issue[] } {
  const data: Record<string, unknown> = {};
  const issues: Issue[] = [];
  let stop = false;
  for (const [k, parse] of [...Object.entries(ARTIFACTS_OPTIONS).map(([k, d]) => [k, d.parse] as const), ...Object.entries(EXTRA_ROWS)]) {
    const r = (parse as (v: unknown) => Parsed<unknown>)(raw[k]);
    if (r.ok) {
      data[k] = r.value;
      continue;
    }
    data[k] = raw[k];
    stop ||= r.stop === true;
    for (const i of r.issues ?? (typeof r.message === 'string' ? [r.message] : r.message).map((message) => ({ path: [], message })))
      issues.push({ path: [k, ...(i.path as (string | number)[])], message: i.message });
  }
  if (!stop) issues.push(...crossFieldIssues(data as ArtifactsConfig));
  return issues.length ? { success: false, issues } : { success: true, data: data as ArtifactsConfig };
}

/** "--flag (VARIABLE)" of every row, made once: an inventory resolves every row for every VM. */
const LABELS = fieldNames(ARTIFACTS_OPTIONS) as Record<FieldKey, string>;

/** What callers give, by field name (the CLI maps its flags through the table): text, lists, booleans. */
export type ArtifactsInput = Given<Rows>;
/** @deprecated the old name of ArtifactsInput (keys are field names: templateDir, apiAddresses, dns). */
export type ArtifactsFlags = ArtifactsInput;

/** One inventory entry, already keyed by field (see inventory.ts). */
export type EntryValues = Partial<Record<FieldKey, unknown>>;

export interface ResolveOptions {
  env?: NodeJS.ProcessEnv;
  /** Per-VM values from an inventory entry; they win over flags. `label` names the entry in errors. */
  entry?: { values: EntryValues; label: string };
  /** Home directory for SSH key auto-detection (default: HOME or os.homedir()). */
  home?: string;
  /** Host architecture for the --arch default (default: process.arch). */
  hostArch?: string;
  /** Base for relative paths read from files (ssh key paths): the cwd, or the inventory's directory. */
  cwd?: string;
  /** Stops reading key files (Ctrl-C). */
  signal?: CancelSignal;
}

/** The default --arch: the host's, when it is one Kubesolo builds for Alpine. */
export function hostArch(arch: string = process.arch): (typeof ARCHES)[number] {
  return arch === 'arm64' ? 'arm64' : 'amd64';
}

/** Key files tried when no key is given, in this order; then any other ~/.ssh/*.pub, sorted. */
const PREFERRED_KEYS = ['id_ed25519.pub', 'id_ecdsa.pub', 'id_ed25519_sk.pub', 'id_ecdsa_sk.pub', 'id_rsa.pub'];

/** Finds the user's public key in ~/.ssh; returns the key and its path, or undefined. */
export async function detectSshKey(home: string, signal?: CancelSignal): Promise<{ key: string; path: string } | undefined> {
  const dir = join(home, '.ssh');
  let names: string[];
  try {
    names = (await readdir(dir)).filter((n) => n.endsWith('.pub'));
  } catch {
    return undefined;
  }
  const ordered = [...PREFERRED_KEYS.filter((n) => names.includes(n)), ...names.filter((n) => !PREFERRED_KEYS.includes(n)).sort()];
  for (const n of ordered) {
    const path = join(dir, n);
    // a FIFO or a huge file in ~/.ssh is skipped like an unreadable one, but Ctrl-C still stops the search
    const data = await readInputText(path, 'sshKey', { what: 'SSH key', signal }).catch((e: unknown) => {
      if (signal?.aborted) throw e;
      return undefined;
    });
    if (data !== undefined && typeof parseSshPublicKey(data) !== 'string') return { key: data.trim(), path };
  }
  return undefined;
}

/** A --ssh-key value may be the key itself or a path to a .pub file. */
async function sshKeyValue(value: string, cwd: string, home: string, label: string, signal?: CancelSignal): Promise<{ key: string; source: string } | undefined> {
  const looksLikePath = /^(?:\/|\.{1,2}\/|~\/)/.test(value) || (value.endsWith('.pub') && !/\s/.test(value));
  if (!looksLikePath) return undefined;
  const path = value.startsWith('~/') ? join(home, value.slice(2)) : isAbsolute(value) ? value : resolvePath(cwd, value);
  try {
    return { key: (await readInputText(path, 'sshKey', { what: label, signal })).replace(/\r?\n$/, ''), source: path };
  } catch (e) {
    // a device, a FIFO that never ends, an oversized file: the reader's own error (exit 2, 5 or 130)
    if (!isQksError(e, 'INPUT_NOT_FOUND')) throw e;
    throw sshKeyFileMissing(label, path);
  }
}

/**
 * Gathers one VM's settings (inventory entry > flags > environment > defaults) and validates them.
 * Throws CONFIG_INVALID naming every bad field by its flag and variable (or inventory key).
 */
export async function resolveArtifactsConfig(flags: ArtifactsInput, options: ResolveOptions = {}): Promise<ArtifactsConfig> {
  const env = options.env ?? process.env;
  const entry = options.entry?.values ?? {};
  const cwd = options.cwd ?? process.cwd();
  const labels: Partial<Record<FieldKey, string>> = {};

  const listOf = (v: unknown): unknown => (Array.isArray(v) ? (v.length ? v.flatMap((x) => (typeof x === 'string' ? splitList(x) : [x])) : undefined) : v);
  // list rows are split on commas and spaces; key lines hold spaces, so --ssh-key values stay whole
  const flagOf = (k: FieldKey): unknown =>
    k === 'sshKeys' ? (Array.isArray(flags[k]) && !flags[k].length ? undefined : flags[k]) : ARTIFACTS_OPTIONS[k].list ? listOf(flags[k]) : flags[k];
  /** A variable's value (an empty variable is unset), converted as its row says. */
  const envOf = (k: FieldKey): unknown => fromEnvOf(ARTIFACTS_OPTIONS[k], env)?.value;
  /** The winning value of a field and the name errors give it. */
  const pick = (k: FieldKey): unknown => {
    const f = FIELDS[k];
    if (entry[k] !== undefined) {
      labels[k] = `${options.entry!.label}.${f.inventory}`;
      return entry[k];
    }
    labels[k] = LABELS[k];
    const given = flagOf(k);
    if (given !== undefined) return given;
    return envOf(k);
  };

  // Password: an explicit hash or password from the strongest source wins; both at one level is ambiguous.
  const pwLevels = [
    { hash: entry.passwordHash, pw: entry.password, name: options.entry ? `${options.entry.label}.password-hash / .password` : '' },
    { hash: flagOf('passwordHash'), pw: flagOf('password'), name: '--password-hash / --password' },
    { hash: envOf('passwordHash'), pw: envOf('password'), name: 'VM_PASSWORD_HASH / VM_PASSWORD' },
  ];
  let password: unknown;
  let passwordHash: unknown;
  let pwConflict: string | undefined;
  for (const level of pwLevels) {
    if (level.hash === undefined && level.pw === undefined) continue;
    if (level.hash !== undefined && level.pw !== undefined) pwConflict = level.name;
    password = level.hash === undefined ? level.pw : undefined;
    passwordHash = level.hash;
    break;
  }
  pick('password');
  pick('passwordHash');

  const home = options.home ?? env.HOME ?? homedir();
  // every key is kept: ssh_authorized_keys is a list (a repeated --ssh-key used to keep only the last)
  const givenKeys = pick('sshKeys');
  const sshKeys: unknown[] = [];
  const sshKeySources: string[] = [];
  if (givenKeys !== undefined) {
    const origin = entry.sshKeys !== undefined ? 'inventory' : flagOf('sshKeys') !== undefined ? 'flag' : 'env';
    for (const value of Array.isArray(givenKeys) ? givenKeys : [givenKeys]) {
      const fromFile = typeof value === 'string' ? await sshKeyValue(value, cwd, home, labels.sshKeys!, options.signal) : undefined;
      sshKeys.push(fromFile?.key ?? value);
      sshKeySources.push(fromFile?.source ?? origin);
    }
  } else {
    const found = await detectSshKey(home, options.signal);
    if (found) {
      sshKeys.push(found.key);
      sshKeySources.push(found.path);
    }
  }

  // every row: its winning value, else the table's default (a list row: its items); then the special cases
  const raw: Record<string, unknown> = {};
  for (const [k, d] of Object.entries(ARTIFACTS_OPTIONS) as [FieldKey, (typeof ARTIFACTS_OPTIONS)[FieldKey]][]) {
    if (k === 'password' || k === 'passwordHash' || k === 'sshKeys') continue;
    const v = pick(k);
    raw[k] = d.list ? asList(v) : (v ?? d.default);
  }
  raw.arch ??= hostArch(options.hostArch);
  Object.assign(raw, {
    password: password ?? (passwordHash === undefined ? DEFAULTS.password : undefined),
    passwordHash,
    defaultPassword: password === undefined && passwordHash === undefined,
    sshKeys,
    sshKeySources,
  });

  const parsed = checkArtifactsConfig(raw);
  const problems: string[] = [];
  if (pwConflict) problems.push(`${pwConflict}: give a password or a password hash, not both`);
  if (!parsed.success) {
    for (const issue of parsed.issues) {
      const key = issue.path[0] as FieldKey;
      // a single key is named without an index, as before keys could be repeated
      const index = typeof issue.path[1] === 'number' && !(key === 'sshKeys' && sshKeys.length === 1) ? `[${issue.path[1]}]` : '';
      problems.push(`${labels[key] ?? String(key)}${index}: ${issue.message}`);
    }
  }
  if (problems.length || !parsed.success) {
    throw configProblems(problems);
  }
  return parsed.data;
}

function asList(v: unknown): unknown {
  if (v === undefined) return [];
  if (typeof v === 'string') return splitList(v);
  return v;
}
