/**
 * The `artifacts` verb's options (see src/options/table.ts for the rules): plain parsers (src/cloudinit/fields.ts),
 * so that the verb loads no zod. Keys are ArtifactsConfig's
 * fields (src/cloudinit/config.ts); an inventory entry names them by the flag without "--".
 */
import {
  apiAddressField,
  archField,
  boolField,
  cidrField,
  hostnameField,
  hostOfApiAddress,
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
  listField,
  optionalField,
} from '../cloudinit/fields.js';
import { string } from './parsers.js';
import { opt } from './table.js';

/** Lists in one value: items separated by commas or spaces (a newline is not a separator: it is refused). */
export const splitList = (s: string): string[] => s.split(/[ ,]+/).filter(Boolean);

export const ARTIFACTS_OPTIONS = {
  sshKeys: opt({
    flag: '--ssh-key <key>',
    env: ['SSH_PUBLIC_KEY'],
    list: true,
    // one key in the variable: a key line holds spaces, so it is not split
    fromEnv: (s) => [s],
    defaultText: 'first valid ~/.ssh/*.pub (id_ed25519 first)',
    help: 'SSH public key line, or the path of a .pub file (repeatable: every key may log in)',
    // every key, normalised, each once
    parse: (v) => {
      const r = listField(sshKeyField)(v);
      return r.ok ? { ok: true, value: [...new Set(r.value)] } : r;
    },
  }),
  hostname: opt({ flag: '--hostname <name>', env: ['VM_HOSTNAME'], default: 'kubesolo', help: 'VM hostname (RFC 1123 label)', parse: hostnameField }),
  username: opt({ flag: '--username <name>', env: ['VM_USER'], default: 'alpine', help: 'login user created in the VM', parse: usernameField }),
  password: opt({
    flag: '--password <password>',
    env: ['VM_PASSWORD'],
    defaultText: 'alpine',
    help: "the user's password (written only as a SHA-512 crypt hash)",
    parse: optionalField(passwordField),
  }),
  passwordHash: opt({ flag: '--password-hash <hash>', env: ['VM_PASSWORD_HASH'], help: 'a ready crypt hash ($6$...) instead of --password', parse: optionalField(passwordHashField) }),
  autoInstallKubesolo: opt({
    flag: '--auto-install-kubesolo',
    env: ['AUTO_INSTALL_KUBESOLO'],
    default: false,
    defaultText: 'false',
    fromEnv: parseBool,
    negate: 'do not install Kubesolo (overrides AUTO_INSTALL_KUBESOLO)',
    help: 'install and start Kubesolo at first boot',
    parse: boolField,
  }),
  // Not the guide's v1.1.0: that release crashes on Alpine after a reboot (portainer/kubesolo #54, fixed
  // in v1.1.3; #132 for Alpine 3.23 in v1.1.4); see seedWarnings in src/cloudinit/artifacts.ts.
  kubesoloVersion: opt({ flag: '--kubesolo-version <vX.Y.Z>', env: ['KUBESOLO_RELEASE'], default: 'v1.1.7', help: 'Kubesolo release to install (older than v1.1.4: a warning)', parse: versionField }),
  kubesoloUrl: opt({
    flag: '--kubesolo-url <url>',
    env: ['KUBESOLO_URL'],
    defaultText: "the release's musl tarball",
    help: 'where the VM fetches the Kubesolo tarball: an http(s):// mirror or file:///path of one the image holds (needs --auto-install-kubesolo)',
    parse: optionalField(kubesoloUrlField),
  }),
  apkRepositories: opt({
    flag: '--apk-repository <url>',
    env: ['APK_REPOSITORIES'],
    list: true,
    default: [],
    defaultText: "the image's own",
    fromEnv: splitList,
    help: 'a line of /etc/apk/repositories, e.g. a local Alpine mirror (repeatable; a comma list in the variable)',
    parse: listField(apkRepositoryField),
  }),
  arch: opt({ flag: '--arch <arch>', env: ['VM_ARCH'], defaultText: "the host's", help: 'VM architecture: amd64 or arm64', parse: archField }),
  outputDir: opt({ flag: '--output-dir <dir>', env: ['ARTIFACTS_DIR'], default: './artifacts', help: 'directory for the artifacts (made 0700; files 0600)', parse: pathField }),
  createIso: opt({
    flag: '--create-iso',
    env: ['CREATE_ISO'],
    default: false,
    defaultText: 'false',
    fromEnv: parseBool,
    negate: 'do not write cidata.iso (overrides CREATE_ISO)',
    help: 'also write cidata.iso (NoCloud seed) for attaching as a CD-ROM',
    parse: boolField,
  }),
  templateDir: opt({
    flag: '--template <dir>',
    env: ['CLOUD_INIT_TEMPLATE_DIR'],
    defaultText: 'the built-in templates',
    help: 'directory with your user-data.template (and optionally meta-data/network-config templates)',
    parse: optionalField(pathField),
  }),
  instanceId: opt({ flag: '--instance-id <id>', env: ['VM_INSTANCE_ID'], defaultText: 'iid-<digest of the settings>', help: 'cloud-init instance-id', parse: optionalField(instanceIdField) }),
  apiAddresses: opt({
    flag: '--api-address <address>',
    env: ['KUBECONFIG_API_ADDRESS'],
    list: true,
    default: [],
    defaultText: 'none',
    fromEnv: (s) => splitList(s).map(hostOfApiAddress),
    help: 'address clients use for the API server (IP or DNS name; repeatable; a comma list in the variable): added to the certificate',
    parse: listField(apiAddressField),
  }),
  ip: opt({ flag: '--ip <cidr>', env: ['VM_IP'], defaultText: 'DHCP', help: 'static address with prefix, e.g. 192.168.122.50/24', parse: optionalField(cidrField) }),
  gateway: opt({ flag: '--gateway <ip>', env: ['VM_GATEWAY'], help: 'default gateway for --ip', parse: optionalField(ipField) }),
  dns: opt({ flag: '--dns <ip>', env: ['VM_DNS'], list: true, default: [], fromEnv: splitList, help: 'DNS server for --ip (repeatable)', parse: listField(ipField) }),
  interface: opt({ flag: '--interface <name>', env: ['VM_INTERFACE'], default: 'eth0', help: 'interface for --ip (Alpine names the first virtio NIC eth0)', parse: interfaceField }),
};

/** Options of the `artifacts` command itself, not of one VM's configuration. */
export const ARTIFACTS_CLI_OPTIONS = {
  inventory: opt({ flag: '--inventory <file>', help: 'YAML list of VMs: one directory per VM, all validated before any is written', parse: optionalField(string([(s) => s.length >= 1, 'Too small: expected string to have >=1 characters'])) }),
};
