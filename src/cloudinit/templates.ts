/**
 * The templates: the built-in ones (embedded, because the single-file bundle runs without the
 * templates/ directory) or a user's directory given with --template.
 */
import { join } from 'node:path';
import { isQksError } from '../errors.js';
import { templateMissing } from './errors.js';
import { readInputText } from '../files/read.js';
import { EMBEDDED_TEMPLATES } from './embedded-templates.js';
import type { TemplateSource } from './render.js';
import type { CancelSignal } from '../cancel.js';

export const TEMPLATE_FILES = {
  userData: 'user-data.template',
  metaData: 'meta-data.template',
  networkConfig: 'network-config.template',
} as const;

export interface TemplateSet {
  userData: TemplateSource;
  metaData: TemplateSource;
  networkConfig: TemplateSource;
}

/** Every variable a template may use, with what it holds (also the README's list). */
export const TEMPLATE_VARIABLES = {
  hostname: 'the VM hostname (RFC 1123 label)',
  username: 'the login user',
  password_hash: "the user's SHA-512 crypt password hash",
  ssh_authorized_keys: 'list of public key lines (empty when none was given or found)',
  auto_install_kubesolo: 'true when Kubesolo is installed at first boot',
  kubesolo_version: 'Kubesolo release tag, e.g. v1.1.7',
  arch: 'amd64 or arm64',
  kubesolo_url: '--kubesolo-url, or the release URL of the musl build of Kubesolo for arch',
  kubesolo_args: 'command_args of the kubesolo service (--path=... [--apiserver-extra-sans=...])',
  api_addresses: 'list of addresses clients use for the API (extra certificate SANs)',
  apk_repositories: 'list of lines for /etc/apk/repositories (--apk-repository; empty keeps the image\'s own)',
  apk_repositories_file: 'the same list as the text of /etc/apk/repositories (one line each)',
  instance_id: 'the cloud-init instance-id',
  static_network: 'true when --ip was given',
  interface: 'interface of the static address (eth0)',
  ip: 'static address with prefix length, e.g. 192.168.122.50/24',
  gateway: 'default gateway (may be empty)',
  default_route: '0.0.0.0/0 or ::/0, to match the address family',
  dns: 'list of DNS servers',
} as const;
export type TemplateVariable = keyof typeof TEMPLATE_VARIABLES;

export function builtinTemplates(): TemplateSet {
  return {
    userData: { name: `built-in ${TEMPLATE_FILES.userData}`, text: EMBEDDED_TEMPLATES['user-data.template'] },
    metaData: { name: `built-in ${TEMPLATE_FILES.metaData}`, text: EMBEDDED_TEMPLATES['meta-data.template'] },
    networkConfig: { name: `built-in ${TEMPLATE_FILES.networkConfig}`, text: EMBEDDED_TEMPLATES['network-config.template'] },
  };
}

/**
 * Loads a user's template directory. user-data.template is required; meta-data and network-config
 * fall back to the built-in ones when the directory lacks them.
 */
export async function loadTemplateDir(dir: string, signal?: CancelSignal): Promise<TemplateSet> {
  const builtin = builtinTemplates();
  const load = async (file: string, fallback?: TemplateSource): Promise<TemplateSource> => {
    const path = join(dir, file);
    try {
      // bounded: a FIFO or /dev/zero as a template must neither hang nor fill memory (src/files/read.ts)
      return { name: path, text: await readInputText(path, 'template', { what: 'template', signal }) };
    } catch (e) {
      const missing = isQksError(e, 'INPUT_NOT_FOUND');
      if (missing && fallback) return fallback;
      if (!missing) throw e; // a device, too large, a pipe that never ends, interrupted: the reader's own error
      throw templateMissing(path, `--template DIR must contain ${TEMPLATE_FILES.userData} (and may contain ${TEMPLATE_FILES.metaData}, ${TEMPLATE_FILES.networkConfig}).`);
    }
  };
  return {
    userData: await load(TEMPLATE_FILES.userData),
    metaData: await load(TEMPLATE_FILES.metaData, builtin.metaData),
    networkConfig: await load(TEMPLATE_FILES.networkConfig, builtin.networkConfig),
  };
}
