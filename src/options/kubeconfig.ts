/**
 * The `kubeconfig` verb's options: one row each (see src/options/table.ts for the rules). Plain parsers
 * with the messages the rows' zod schemas gave (pinned in src/options/kubeconfig.test.ts): the verb's
 * start-up loads no zod (bench/startup.md).
 */
import { DEFAULT_LIBVIRT_URI } from '../libvirt/uri.js';
import { isValidHost, readApiAddress, type ApiAddress } from '../kubeconfig/rewrite.js';
import { checkRemotePath } from '../kubeconfig/remote-path.js';
import { boolean, list, ok, oneOf, optional, string, wholeNumber, type Parser } from './parsers.js';
import { opt } from './table.js';
import { firstOfList, libvirtUriOption, parseVmName, transportOption, VM_NAME_ENV, DEFAULT_VM_NAME } from './shared.js';

/** Whole seconds, 1 s to a day. */
export const seconds = wholeNumber({ nan: 'must be a number of seconds', int: 'must be a whole number of seconds', min: [1, 'must be at least 1'], max: [86_400, 'must be at most 86400 (a day)'] });

const nonEmpty = string([(s) => s.length >= 1, 'Too small: expected string to have >=1 characters']);
const port = 'must be a port number (1-65535)';

/** HOST, HOST:PORT, [IPv6]:PORT or https://HOST:PORT; empty is unset. */
const apiAddress: Parser<ApiAddress | undefined> = (v) => {
  const s = string()(v);
  if (!s.ok) return s;
  if (s.value === '') return ok(undefined);
  const a = readApiAddress(s.value);
  return 'problem' in a ? { ok: false, message: `${JSON.stringify(s.value)} ${a.problem}` } : ok(a);
};

/** --merge alone (true) or --merge FILE. */
const mergeTarget: Parser<boolean | string> = (v) =>
  typeof v === 'boolean' ? ok(v) : typeof v === 'string' ? string([(s) => s.length >= 1, 'must name a file'])(v) : { ok: false, message: 'Invalid input' };

export const DEFAULT_REMOTE_PATH = '/var/lib/kubesolo/pki/admin/admin.kubeconfig';
export const DEFAULT_SSH_USER = 'alpine';
export const DEFAULT_WAIT_TIMEOUT_SEC = 300;
export const DEFAULT_JOBS = 4;

export const KUBECONFIG_OPTIONS = {
  vmNames: opt({
    flag: '--vm-name <name>',
    env: VM_NAME_ENV,
    default: [DEFAULT_VM_NAME],
    defaultText: DEFAULT_VM_NAME,
    list: true,
    fromEnv: (s) => [s],
    help: 'libvirt domain name; repeat for several VMs',
    parse: list(parseVmName, 'give at least one VM name'),
  }),
  vmNamesFile: opt({ flag: '--vm-names-file <file>', help: 'file of VM names, one per line (# comments)', parse: optional(nonEmpty) }),
  method: opt({
    flag: '--method <method>',
    default: 'guest-agent',
    help: 'guest-agent or ssh',
    parse: oneOf(['guest-agent', 'ssh'], 'must be guest-agent or ssh'),
  }),
  apiServer: opt({
    flag: '--api-server <addr>',
    env: ['KUBECONFIG_API_ADDRESS'],
    // the variable may list several addresses (artifacts puts them all in the certificate); clients use the first
    fromEnv: firstOfList,
    help: 'address clients use for the API server',
    parse: optional(apiAddress),
  }),
  output: opt({ flag: '-o, --output <file>', defaultText: '~/.kube/<vm-name>', help: 'file to write, - for stdout', parse: optional(nonEmpty) }),
  outputDir: opt({ flag: '--output-dir <dir>', help: 'directory for <vm-name> files (several VMs)', parse: optional(nonEmpty) }),
  wait: opt({ flag: '--wait', default: false, help: 'wait until the kubeconfig exists (Kubesolo starts 2-3 minutes after boot)', parse: boolean }),
  ready: opt({
    flag: '--ready',
    default: false,
    help: 'wait past the file until the API answers /readyz and the node is Ready, with the kubeconfig\'s own credentials (implies --wait)',
    parse: boolean,
  }),
  merge: opt({
    flag: '--merge [file]',
    help: "merge the cluster, user and context into FILE (default $KUBECONFIG's first file, else ~/.kube/config)",
    parse: optional(mergeTarget),
  }),
  context: opt({
    flag: '--context <name>',
    defaultText: 'the VM name',
    help: 'name of the merged cluster, user and context (with --merge)',
    parse: optional(string()),
  }),
  useContext: opt({ flag: '--use-context', default: false, help: 'make the merged context the current one (with --merge)', parse: boolean }),
  allowUnsafeKubeconfig: opt({
    flag: '--allow-unsafe-kubeconfig',
    default: false,
    help: 'write a kubeconfig with exec plugins, file references, proxy-url... anyway, with a warning per key',
    parse: boolean,
  }),
  timeoutSec: opt({ flag: '--timeout <seconds>', default: DEFAULT_WAIT_TIMEOUT_SEC, help: 'bound on --wait', parse: seconds }),
  socket: opt({
    flag: '--socket <path>',
    help: 'guest-agent socket to use instead of discovery; {vm} is replaced by the VM name',
    parse: optional(nonEmpty),
  }),
  remotePath: opt({
    flag: '--remote-path <path>',
    default: DEFAULT_REMOTE_PATH,
    help: 'the kubeconfig in the guest',
    parse: (v) => {
      const s = string()(v);
      const bad = s.ok ? checkRemotePath(s.value) : undefined;
      return bad ? { ok: false, message: bad } : s;
    },
  }),
  transport: transportOption(),
  libvirtUri: libvirtUriOption(DEFAULT_LIBVIRT_URI),
  vmIp: opt({
    flag: '--vm-ip <ip>',
    env: ['VM_IP'],
    help: 'VM address for --method ssh',
    parse: optional(string([(s) => isValidHost(s.replace(/^\[|\]$/g, '')), 'must be an IP address or host name'])),
  }),
  sshUser: opt({
    flag: '--ssh-user <user>',
    env: ['VM_USER'],
    default: DEFAULT_SSH_USER,
    help: 'SSH user',
    parse: string([(s) => /^[a-z_][a-z0-9_.-]*\$?$/i.test(s), 'must be a user name']),
  }),
  sshKey: opt({ flag: '--ssh-key <file>', help: 'SSH private key', parse: optional(nonEmpty) }),
  sshPort: opt({
    flag: '--ssh-port <port>',
    defaultText: '22',
    help: 'SSH port',
    parse: optional(wholeNumber({ nan: port, int: port, min: [1, port], max: [65535, port] })),
  }),
  sshOptions: opt({
    flag: '--ssh-option <key=value>',
    list: true,
    default: [],
    help: 'extra ssh -o option, repeatable (e.g. UserKnownHostsFile=...)',
    parse: list(string([(s) => /^[A-Za-z]+=[^\n\0]*$/.test(s), 'must be Key=Value, as ssh -o takes'])),
  }),
  verifyServer: opt({ flag: '--no-verify-server', default: true, defaultText: 'verify', help: 'skip the TLS check of the API server address', parse: boolean }),
  jobs: opt({
    flag: '-j, --jobs <n>',
    default: DEFAULT_JOBS,
    help: 'VMs fetched at once',
    parse: wholeNumber({ nan: 'must be a whole number', int: 'must be a whole number', min: [1, 'must be at least 1'], max: [64, 'must be at most 64'] }),
  }),
};
