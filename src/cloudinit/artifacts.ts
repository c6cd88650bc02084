/**
 * One VM's seed: config → template variables → rendered documents (+ cidata.iso) → files written
 * atomically. Everything is rendered and checked before the first byte is written, so a bad value or
 * template leaves an existing output directory as it was.
 */
import { createHash } from 'node:crypto';
import { isIPv6 } from 'node:net';
import { join, resolve as resolvePath } from 'node:path';
import { outputDirNotDirectory } from './errors.js';
import { buildIso } from '../iso/build.js';
import { outputError, writeFilesAtomic } from '../files/atomic.js';
import { chmod, lstat, mkdir, rm, stat } from '../files/fs.js';
import { bootDiskResizeArgs, formatBootDiskResize, formatVirtInstall, virtInstallArgs } from '../libvirt/virt-install.js';
import { DEFAULTS, type ArtifactsConfig } from './config.js';
import { networkWarnings } from './network.js';
import { sha512Crypt, makeSalt } from './password.js';
import { renderTemplate, type TemplateVars } from './render.js';
import { builtinTemplates, TEMPLATE_VARIABLES, type TemplateSet, type TemplateVariable } from './templates.js';

export const KUBESOLO_DATA_PATH = '/var/lib/kubesolo';
export const ISO_NAME = 'cidata.iso';
const DEFAULT_KUBESOLO_VERSION = DEFAULTS.kubesoloVersion;

/** Where Kubesolo's own installer fetches the release: the musl build, for Alpine. */
export function kubesoloUrl(version: string, arch: string): string {
  return `https://github.com/portainer/kubesolo/releases/download/${version}/kubesolo-${version}-linux-${arch}-musl.tar.gz`;
}

/** command_args of the kubesolo OpenRC service. */
export function kubesoloArgs(apiAddresses: readonly string[]): string {
  const args = [`--path=${KUBESOLO_DATA_PATH}`];
  if (apiAddresses.length) args.push(`--apiserver-extra-sans=${[...new Set(apiAddresses)].join(',')}`);
  return args.join(' ');
}

/**
 * The default instance-id: a digest of everything that shapes the seed (templates included), so the
 * same inputs give the same id and any change gives a new one, which makes cloud-init apply it. The
 * password enters as a SHA-512 crypt salted per host and user: a salt shared by every seed would let
 * one precomputed dictionary crack the password of any VM from its meta-data.
 */
export function defaultInstanceId(config: ArtifactsConfig, templates: TemplateSet): string {
  const digestOf = (s: string) => createHash('sha256').update(s).digest('hex');
  const canonical = JSON.stringify([
    'qemu-kubesolo/1',
    config.hostname,
    config.username,
    config.passwordHash ?? sha512Crypt(config.password ?? '', makeSalt(`instance-id\0${config.hostname}\0${config.username}`)),
    config.sshKeys.length > 1 ? [...config.sshKeys] : (config.sshKeys[0] ?? null), // one key: the ids of earlier versions
    config.autoInstallKubesolo,
    config.kubesoloVersion,
    config.kubesoloUrl ?? null,
    [...config.apkRepositories],
    config.arch,
    [...config.apiAddresses],
    config.ip ?? null,
    config.gateway ?? null,
    [...config.dns],
    config.interface,
    digestOf(templates.userData.text),
    digestOf(templates.metaData.text),
    digestOf(templates.networkConfig.text),
  ]);
  return `iid-${digestOf(canonical).slice(0, 16)}`;
}

/** The first release that carries both Alpine fixes (portainer/kubesolo #54 and #132). */
export const FIRST_KUBESOLO_FOR_ALPINE = 'v1.1.4';

function versionParts(v: string): number[] {
  return v.slice(1).split('.').map(Number);
}

/** a < b for vX.Y.Z tags. */
export function versionBefore(a: string, b: string): boolean {
  const [x, y] = [versionParts(a), versionParts(b)];
  for (let i = 0; i < 3; i++) if (x[i] !== y[i]) return x[i]! < y[i]!;
  return false;
}

/** What a user should know about a valid configuration that will not behave as they may expect. */
export function seedWarnings(config: ArtifactsConfig): string[] {
  const warnings: string[] = [];
  if (config.defaultPassword) warnings.push('no password given: using the default "alpine" (console login only: SSH takes keys only)');
  warnings.push(...networkWarnings(config));
  if (!config.sshKeys.length) warnings.push('no SSH public key given or found in ~/.ssh/*.pub: the VM will accept no SSH login (the guest agent still works)');
  if (config.autoInstallKubesolo && versionBefore(config.kubesoloVersion, FIRST_KUBESOLO_FOR_ALPINE)) {
    warnings.push(
      `Kubesolo ${config.kubesoloVersion} crashes on Alpine after a reboot (portainer/kubesolo #54, fixed in v1.1.3; #132 for Alpine 3.23, in ${FIRST_KUBESOLO_FOR_ALPINE}): use ${FIRST_KUBESOLO_FOR_ALPINE} or later (the default is ${DEFAULT_KUBESOLO_VERSION})`,
    );
  }
  if (config.ip && isIPv6(config.ip.split('/')[0]!)) {
    warnings.push(
      'the static address is IPv6 only: Kubesolo picks the node IP among IPv4 addresses only and this node has none but loopback, so the node cannot advertise an address and clients cannot reach its API over IPv6; give an IPv4 --ip (or leave DHCP on)',
    );
  }
  return warnings;
}

/** The variables every template sees. */
export function templateVars(config: ArtifactsConfig, passwordHash: string, instanceId: string): TemplateVars {
  const vars: Record<TemplateVariable, TemplateVars[string]> = {
    hostname: config.hostname,
    username: config.username,
    password_hash: passwordHash,
    ssh_authorized_keys: config.sshKeys,
    auto_install_kubesolo: config.autoInstallKubesolo,
    kubesolo_version: config.kubesoloVersion,
    arch: config.arch,
    kubesolo_url: config.kubesoloUrl ?? kubesoloUrl(config.kubesoloVersion, config.arch),
    kubesolo_args: kubesoloArgs(config.apiAddresses),
    api_addresses: config.apiAddresses,
    apk_repositories: config.apkRepositories,
    apk_repositories_file: config.apkRepositories.map((r) => `${r}\n`).join(''),
    instance_id: instanceId,
    static_network: config.ip !== undefined,
    interface: config.interface,
    ip: config.ip ?? '',
    gateway: config.gateway ?? '',
    default_route: config.ip && isIPv6(config.ip.split('/')[0]!) ? '::/0' : '0.0.0.0/0',
    dns: config.dns,
  };
  return vars;
}

export type ArtifactName = 'user-data' | 'meta-data' | 'network-config' | typeof ISO_NAME;

export interface RenderedArtifacts {
  instanceId: string;
  /** In write order: the ISO first (the largest, so a full disk fails before any document is replaced). */
  files: { name: ArtifactName; data: string | Uint8Array }[];
}

export interface RenderArtifactsOptions {
  /** Templates (default: the built-in ones). */
  templates?: TemplateSet;
  /** Seed for the password salt when reproducible output is wanted (e.g. SOURCE_DATE_EPOCH); random otherwise. */
  saltSeed?: string;
  /** ISO timestamps in seconds (default: the ISO writer's fixed epoch). */
  epoch?: number;
}

export interface RenderedDocuments {
  instanceId: string;
  createIso: boolean;
  docs: { name: Exclude<ArtifactName, typeof ISO_NAME>; data: string }[];
}

/** Renders one VM's cloud-init documents (no ISO yet). Pure except for the random salt. */
export function renderDocuments(config: ArtifactsConfig, options: RenderArtifactsOptions = {}): RenderedDocuments {
  const templates = options.templates ?? builtinTemplates();
  const known = Object.keys(TEMPLATE_VARIABLES);
  const instanceId = config.instanceId ?? defaultInstanceId(config, templates);
  const salt = makeSalt(options.saltSeed === undefined ? undefined : `${options.saltSeed}\0${config.hostname}\0${config.username}`);
  const passwordHash = config.passwordHash ?? sha512Crypt(config.password ?? '', salt);
  const vars = templateVars(config, passwordHash, instanceId);
  const docs: RenderedDocuments['docs'] = [
    { name: 'user-data', data: renderTemplate(templates.userData, 'user-data', vars, known) },
    { name: 'meta-data', data: renderTemplate(templates.metaData, 'meta-data', vars, known) },
  ];
  if (config.ip) docs.push({ name: 'network-config', data: renderTemplate(templates.networkConfig, 'network-config', vars, known) });
  return { instanceId, createIso: config.createIso, docs };
}

/** Adds the ISO (when asked for) to rendered documents, in write order. */
export function packArtifacts(rendered: RenderedDocuments, options: Pick<RenderArtifactsOptions, 'epoch'> = {}): RenderedArtifacts {
  const files: RenderedArtifacts['files'] = [];
  if (rendered.createIso) {
    const iso = buildIso(
      rendered.docs.map((d) => ({ path: d.name, data: d.data })),
      options.epoch === undefined ? {} : { epoch: options.epoch },
    );
    files.push({ name: ISO_NAME, data: iso });
  }
  files.push(...[...rendered.docs].reverse());
  return { instanceId: rendered.instanceId, files };
}

/** Renders one VM's documents and, with `config.createIso`, the ISO. */
export function renderArtifacts(config: ArtifactsConfig, options: RenderArtifactsOptions = {}): RenderedArtifacts {
  return packArtifacts(renderDocuments(config, options), options);
}

export interface WrittenFile {
  name: ArtifactName;
  path: string;
  bytes: number;
  sha256: string;
}

export interface ArtifactsResult {
  outputDir: string;
  instanceId: string;
  files: WrittenFile[];
  iso?: string;
  /** Files of an earlier run that no longer belong to this seed (a network-config, an old ISO). */
  removed: string[];
  /** `command` is the boot-disk resize line and the virt-install command; `resize` the qemu-img argv. */
  virtInstall: { argv: string[]; command: string; resize: string[] };
  warnings: string[];
}

/** Writes rendered artifacts: the directory 0700 when made here, every file 0600 and atomic. */
export async function writeArtifacts(outputDir: string, rendered: RenderedArtifacts): Promise<Omit<ArtifactsResult, 'virtInstall'>> {
  const dir = resolvePath(outputDir);
  const warnings: string[] = [];
  const existing = await stat(dir).catch(() => undefined);
  if (!existing) {
    try {
      await mkdir(dir, { recursive: true, mode: 0o700 });
      await chmod(dir, 0o700); // mkdir's mode is filtered by the umask
    } catch (e) {
      throw outputError(dir, e);
    }
  } else if (!existing.isDirectory()) {
    throw outputDirNotDirectory(dir);
  } else if ((existing.mode & 0o077) !== 0) {
    warnings.push(`${dir} is readable by other users (mode ${(existing.mode & 0o777).toString(8)}); the files in it are 0600, but consider chmod 700`);
  }
  // every file's temporary copy first, then the renames: a failure leaves the old seed whole
  await writeFilesAtomic(rendered.files.map((f) => ({ path: join(dir, f.name), data: f.data })), { mode: 0o600 });
  const files: WrittenFile[] = rendered.files.map((f) => ({
    name: f.name,
    path: join(dir, f.name),
    bytes: typeof f.data === 'string' ? Buffer.byteLength(f.data) : f.data.byteLength,
    sha256: createHash('sha256').update(f.data).digest('hex'),
  }));
  const removed: string[] = [];
  for (const stale of ['network-config', ISO_NAME] as const) {
    if (rendered.files.some((f) => f.name === stale)) continue;
    const path = join(dir, stale);
    const st = await lstat(path).catch(() => undefined);
    if (!st) continue;
    // only a file we could have written is removed: a directory or a device node of that name is left alone
    if (!st.isFile()) {
      warnings.push(`left ${path} alone: it is not a regular file (and not part of this seed)`);
      continue;
    }
    await rm(path, { force: true }).catch((e: unknown) => {
      throw outputError(path, e);
    });
    removed.push(path);
  }
  const iso = files.find((f) => f.name === ISO_NAME)?.path;
  // Report in a natural order: user-data, meta-data, network-config, ISO.
  const order: ArtifactName[] = ['user-data', 'meta-data', 'network-config', ISO_NAME];
  files.sort((a, b) => order.indexOf(a.name) - order.indexOf(b.name));
  return { outputDir: dir, instanceId: rendered.instanceId, files, ...(iso ? { iso } : {}), removed, warnings };
}

/** The virt-install line for written artifacts (name = hostname). */
export function virtInstallFor(config: ArtifactsConfig, written: Pick<ArtifactsResult, 'files' | 'iso'>): ArtifactsResult['virtInstall'] {
  const pathOf = (n: ArtifactName) => written.files.find((f) => f.name === n)?.path;
  const argv = virtInstallArgs({
    name: config.hostname,
    ...(written.iso
      ? { isoPath: written.iso }
      : { userData: pathOf('user-data'), metaData: pathOf('meta-data'), networkConfig: pathOf('network-config') }),
  });
  const resize = bootDiskResizeArgs();
  return { argv, command: `${formatBootDiskResize(resize)}\n${formatVirtInstall(argv)}`, resize };
}

/** Writes rendered documents (building the ISO now) and adds the virt-install line and warnings. */
export async function writeRendered(config: ArtifactsConfig, rendered: RenderedDocuments, options: Pick<RenderArtifactsOptions, 'epoch'> = {}): Promise<ArtifactsResult> {
  const written = await writeArtifacts(config.outputDir, packArtifacts(rendered, options));
  const warnings = [...written.warnings, ...seedWarnings(config)];
  return { ...written, warnings, virtInstall: virtInstallFor(config, written) };
}

/** Renders, then writes, one VM's artifacts; returns what was written and the virt-install line. */
export async function generateArtifacts(config: ArtifactsConfig, options: RenderArtifactsOptions = {}): Promise<ArtifactsResult> {
  return writeRendered(config, renderDocuments(config, options), options);
}
