/**
 * The artifacts configuration: flags > environment variables > defaults, gathered into one object and
 * validated by one zod schema whose errors name the flag and the variable (or the inventory entry).
 */
import { readFile, readdir } from 'node:fs/promises';
import { homedir } from 'node:os';
import { isIPv4, isIPv6 } from 'node:net';
import { isAbsolute, join, resolve as resolvePath } from 'node:path';
import { z } from 'zod';
import { QksError } from '../errors.js';
import {
  apiAddressField,
  hostOfApiAddress,
  archField,
  boolField,
  cidrField,
  hostnameField,
  instanceIdField,
  interfaceField,
  ipField,
  parseBool,
  passwordField,
  passwordHashField,
  pathField,
  sshKeyField,
  usernameField,
  versionField,
  kubesoloUrlField,
  apkRepositoryField,
  ARCHES,
} from './fields.js';
import { parseSshPublicKey } from './ssh-key.js';

export const DEFAULTS = {
  hostname: 'kubesolo',
  username: 'alpine',
  password: 'alpine',
  autoInstallKubesolo: false,
  /**
   * Not the guide's v1.1.0: that release crashes on Alpine after a reboot (portainer/kubesolo #54,
   * fixed in v1.1.3; #132, Alpine 3.23's cgroup driver, CoreDNS memory and nft, in v1.1.4).
   */
  kubesoloVersion: 'v1.1.7',
  outputDir: './artifacts',
  createIso: false,
  interface: 'eth0',
} as const;

/** Each setting's flag and environment variable: the names errors use and the README's table. */
export const FIELDS = {
  sshKey: { flag: '--ssh-key', env: 'SSH_PUBLIC_KEY', inventory: 'ssh-key' },
  hostname: { flag: '--hostname', env: 'VM_HOSTNAME', inventory: 'hostname' },
  username: { flag: '--username', env: 'VM_USER', inventory: 'username' },
  password: { flag: '--password', env: 'VM_PASSWORD', inventory: 'password' },
  passwordHash: { flag: '--password-hash', env: 'VM_PASSWORD_HASH', inventory: 'password-hash' },
  autoInstallKubesolo: { flag: '--auto-install-kubesolo', env: 'AUTO_INSTALL_KUBESOLO', inventory: 'auto-install-kubesolo' },
  kubesoloVersion: { flag: '--kubesolo-version', env: 'KUBESOLO_RELEASE', inventory: 'kubesolo-version' },
  kubesoloUrl: { flag: '--kubesolo-url', env: 'KUBESOLO_URL', inventory: 'kubesolo-url' },
  apkRepositories: { flag: '--apk-repository', env: 'APK_REPOSITORIES', inventory: 'apk-repository' },
  arch: { flag: '--arch', env: 'VM_ARCH', inventory: 'arch' },
  outputDir: { flag: '--output-dir', env: 'ARTIFACTS_DIR', inventory: 'output-dir' },
  createIso: { flag: '--create-iso', env: 'CREATE_ISO', inventory: 'create-iso' },
  templateDir: { flag: '--template', env: 'CLOUD_INIT_TEMPLATE_DIR', inventory: 'template' },
  instanceId: { flag: '--instance-id', env: 'VM_INSTANCE_ID', inventory: 'instance-id' },
  apiAddresses: { flag: '--api-address', env: 'KUBECONFIG_API_ADDRESS', inventory: 'api-address' },
  ip: { flag: '--ip', env: 'VM_IP', inventory: 'ip' },
  gateway: { flag: '--gateway', env: 'VM_GATEWAY', inventory: 'gateway' },
  dns: { flag: '--dns', env: 'VM_DNS', inventory: 'dns' },
  interface: { flag: '--interface', env: 'VM_INTERFACE', inventory: 'interface' },
} as const;
export type FieldKey = keyof typeof FIELDS;

/** The resolved, validated configuration of one VM's artifacts. */
export const ArtifactsConfigSchema = z
  .object({
    hostname: hostnameField,
    username: usernameField,
    password: passwordField.optional(),
    passwordHash: passwordHashField.optional(),
    /** True when no password was given and the guide's default ("alpine") is used. */
    defaultPassword: z.boolean(),
    sshKey: sshKeyField.optional(),
    /** Where the key came from: "flag", "env", "inventory" or the file it was read from. */
    sshKeySource: z.string().optional(),
    autoInstallKubesolo: boolField,
    kubesoloVersion: versionField,
    /** Where the VM fetches Kubesolo's tarball instead of its release (a mirror, a file:// in the image). */
    kubesoloUrl: kubesoloUrlField.optional(),
    /** Lines of /etc/apk/repositories (a local mirror); none keeps the image's own. */
    apkRepositories: z.array(apkRepositoryField),
    arch: archField,
    outputDir: pathField,
    createIso: boolField,
    templateDir: pathField.optional(),
    instanceId: instanceIdField.optional(),
    apiAddresses: z.array(apiAddressField),
    ip: cidrField.optional(),
    gateway: ipField.optional(),
    dns: z.array(ipField),
    interface: interfaceField,
  })
  .superRefine((c, ctx) => {
    if (c.kubesoloUrl && !c.autoInstallKubesolo) {
      ctx.addIssue({ code: 'custom', path: ['kubesoloUrl'], message: 'needs --auto-install-kubesolo (AUTO_INSTALL_KUBESOLO) too: without it nothing downloads Kubesolo' });
    }
    if (!c.ip) {
      if (c.gateway) ctx.addIssue({ code: 'custom', path: ['gateway'], message: 'needs a static address (--ip) too' });
      if (c.dns.length) ctx.addIssue({ code: 'custom', path: ['dns'], message: 'needs a static address (--ip) too (with DHCP the DNS servers come from DHCP)' });
      return;
    }
    const v6 = isIPv6(c.ip.split('/')[0]!);
    if (c.gateway && (v6 ? !isIPv6(c.gateway) : !isIPv4(c.gateway))) {
      ctx.addIssue({ code: 'custom', path: ['gateway'], message: `must be an IPv${v6 ? 6 : 4} address like --ip` });
    }
  });
export type ArtifactsConfig = z.infer<typeof ArtifactsConfigSchema>;

/** What the command line gives (commander's camelCase option names). */
export interface ArtifactsFlags {
  sshKey?: string;
  hostname?: string;
  username?: string;
  password?: string;
  passwordHash?: string;
  autoInstallKubesolo?: boolean;
  kubesoloVersion?: string;
  kubesoloUrl?: string;
  apkRepository?: string[];
  arch?: string;
  outputDir?: string;
  createIso?: boolean;
  template?: string;
  instanceId?: string;
  apiAddress?: string[];
  ip?: string;
  gateway?: string;
  dns?: string[];
  interface?: string;
}

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
}

/** The default --arch: the host's, when it is one Kubesolo builds for Alpine. */
export function hostArch(arch: string = process.arch): (typeof ARCHES)[number] {
  return arch === 'arm64' ? 'arm64' : 'amd64';
}

/** Lists in one value: items separated by commas or spaces (a newline is not a separator: it is refused). */
const splitList = (s: string): string[] => s.split(/[ ,]+/).filter(Boolean);

/** Key files tried when no key is given, in this order; then any other ~/.ssh/*.pub, sorted. */
const PREFERRED_KEYS = ['id_ed25519.pub', 'id_ecdsa.pub', 'id_ed25519_sk.pub', 'id_ecdsa_sk.pub', 'id_rsa.pub'];

/** Finds the user's public key in ~/.ssh; returns the key and its path, or undefined. */
export async function detectSshKey(home: string): Promise<{ key: string; path: string } | undefined> {
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
    const data = await readFile(path, 'utf8').catch(() => undefined);
    if (data !== undefined && typeof parseSshPublicKey(data) !== 'string') return { key: data.trim(), path };
  }
  return undefined;
}

/** A --ssh-key value may be the key itself or a path to a .pub file. */
async function sshKeyValue(value: string, cwd: string, home: string, label: string): Promise<{ key: string; source: string } | undefined> {
  const looksLikePath = /^(?:\/|\.{1,2}\/|~\/)/.test(value) || (value.endsWith('.pub') && !/\s/.test(value));
  if (!looksLikePath) return undefined;
  const path = value.startsWith('~/') ? join(home, value.slice(2)) : isAbsolute(value) ? value : resolvePath(cwd, value);
  try {
    return { key: (await readFile(path, 'utf8')).replace(/\r?\n$/, ''), source: path };
  } catch (e) {
    throw new QksError('CONFIG_INVALID', `${label}: cannot read the key file ${path} (${(e as NodeJS.ErrnoException).code ?? 'error'})`, {
      hint: 'Pass the public key itself ("ssh-ed25519 AAAA... user@host") or the path of a readable .pub file.',
    });
  }
}

/**
 * Gathers one VM's settings (inventory entry > flags > environment > defaults) and validates them.
 * Throws CONFIG_INVALID naming every bad field by its flag and variable (or inventory key).
 */
export async function resolveArtifactsConfig(flags: ArtifactsFlags, options: ResolveOptions = {}): Promise<ArtifactsConfig> {
  const env = options.env ?? process.env;
  const entry = options.entry?.values ?? {};
  const cwd = options.cwd ?? process.cwd();
  const labels: Partial<Record<FieldKey, string>> = {};

  const flagOf: Record<FieldKey, unknown> = {
    sshKey: flags.sshKey,
    hostname: flags.hostname,
    username: flags.username,
    password: flags.password,
    passwordHash: flags.passwordHash,
    autoInstallKubesolo: flags.autoInstallKubesolo,
    kubesoloVersion: flags.kubesoloVersion,
    kubesoloUrl: flags.kubesoloUrl,
    apkRepositories: flags.apkRepository?.length ? flags.apkRepository.flatMap(splitList) : undefined,
    arch: flags.arch,
    outputDir: flags.outputDir,
    createIso: flags.createIso,
    templateDir: flags.template,
    instanceId: flags.instanceId,
    apiAddresses: flags.apiAddress?.length ? flags.apiAddress.flatMap(splitList) : undefined,
    ip: flags.ip,
    gateway: flags.gateway,
    dns: flags.dns?.length ? flags.dns.flatMap(splitList) : undefined,
    interface: flags.interface,
  };
  const envOf = (k: FieldKey): unknown => {
    const v = env[FIELDS[k].env];
    if (v === undefined || v === '') return undefined;
    if (k === 'autoInstallKubesolo' || k === 'createIso') return parseBool(v);
    if (k === 'apiAddresses') return splitList(v).map(hostOfApiAddress);
    if (k === 'dns' || k === 'apkRepositories') return splitList(v);
    return v;
  };
  /** The winning value of a field and the name errors give it. */
  const pick = (k: FieldKey): unknown => {
    const f = FIELDS[k];
    if (entry[k] !== undefined) {
      labels[k] = `${options.entry!.label}.${f.inventory}`;
      return entry[k];
    }
    labels[k] = `${f.flag} (${f.env})`;
    if (flagOf[k] !== undefined) return flagOf[k];
    return envOf(k);
  };

  // Password: an explicit hash or password from the strongest source wins; both at one level is ambiguous.
  const pwLevels = [
    { hash: entry.passwordHash, pw: entry.password, name: options.entry ? `${options.entry.label}.password-hash / .password` : '' },
    { hash: flags.passwordHash, pw: flags.password, name: '--password-hash / --password' },
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
  let sshKey = pick('sshKey');
  let sshKeySource: string | undefined;
  if (typeof sshKey === 'string') {
    sshKeySource = entry.sshKey !== undefined ? 'inventory' : flags.sshKey !== undefined ? 'flag' : 'env';
    const fromFile = await sshKeyValue(sshKey, cwd, home, labels.sshKey!);
    if (fromFile) ({ key: sshKey, source: sshKeySource } = fromFile);
  } else if (sshKey === undefined) {
    const found = await detectSshKey(home);
    if (found) ({ key: sshKey, path: sshKeySource } = found);
  }

  const raw = {
    hostname: pick('hostname') ?? DEFAULTS.hostname,
    username: pick('username') ?? DEFAULTS.username,
    password: password ?? (passwordHash === undefined ? DEFAULTS.password : undefined),
    passwordHash,
    defaultPassword: password === undefined && passwordHash === undefined,
    sshKey,
    sshKeySource,
    autoInstallKubesolo: pick('autoInstallKubesolo') ?? DEFAULTS.autoInstallKubesolo,
    kubesoloVersion: pick('kubesoloVersion') ?? DEFAULTS.kubesoloVersion,
    kubesoloUrl: pick('kubesoloUrl'),
    apkRepositories: asList(pick('apkRepositories')),
    arch: pick('arch') ?? hostArch(options.hostArch),
    outputDir: pick('outputDir') ?? DEFAULTS.outputDir,
    createIso: pick('createIso') ?? DEFAULTS.createIso,
    templateDir: pick('templateDir'),
    instanceId: pick('instanceId'),
    apiAddresses: asList(pick('apiAddresses')),
    ip: pick('ip'),
    gateway: pick('gateway'),
    dns: asList(pick('dns')),
    interface: pick('interface') ?? DEFAULTS.interface,
  };

  const parsed = ArtifactsConfigSchema.safeParse(raw);
  const problems: string[] = [];
  if (pwConflict) problems.push(`${pwConflict}: give a password or a password hash, not both`);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const key = issue.path[0] as FieldKey;
      const index = typeof issue.path[1] === 'number' ? `[${issue.path[1]}]` : '';
      problems.push(`${labels[key] ?? String(key)}${index}: ${issue.message}`);
    }
  }
  if (problems.length || !parsed.success) {
    throw new QksError('CONFIG_INVALID', problems.join('; '), {
      hint: 'Fix the value named above (flags win over environment variables); nothing was written.',
      details: { problems },
    });
  }
  return parsed.data;
}

function asList(v: unknown): unknown {
  if (v === undefined) return [];
  if (typeof v === 'string') return splitList(v);
  return v;
}
