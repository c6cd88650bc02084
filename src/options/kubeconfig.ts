/** The `kubeconfig` verb's options: one row each (see src/options/table.ts for the rules). */
import { z } from 'zod';
import { DEFAULT_LIBVIRT_URI } from '../libvirt/uri.js';
import { isValidHost, readApiAddress } from '../kubeconfig/rewrite.js';
import { checkRemotePath } from '../kubeconfig/ssh.js';
import { opt } from './table.js';
import { firstOfList, libvirtUriOption, parseVmName, transportOption, VM_NAME_ENV, DEFAULT_VM_NAME } from './shared.js';
import { fromParser } from './zod.js';

/** Whole seconds, 1 s to a day. */
export const seconds = () =>
  z.coerce.number({ error: 'must be a number of seconds' }).int('must be a whole number of seconds').min(1, 'must be at least 1').max(86_400, 'must be at most 86400 (a day)');

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
    schema: () => z.array(fromParser(parseVmName)).min(1, 'give at least one VM name'),
  }),
  vmNamesFile: opt({ flag: '--vm-names-file <file>', help: 'file of VM names, one per line (# comments)', schema: () => z.string().min(1).optional() }),
  method: opt({
    flag: '--method <method>',
    default: 'guest-agent',
    help: 'guest-agent or ssh',
    schema: () => z.enum(['guest-agent', 'ssh'], { error: 'must be guest-agent or ssh' }),
  }),
  apiServer: opt({
    flag: '--api-server <addr>',
    env: ['KUBECONFIG_API_ADDRESS'],
    // the variable may list several addresses (artifacts puts them all in the certificate); clients use the first
    fromEnv: firstOfList,
    help: 'address clients use for the API server',
    schema: () =>
      z
        .string()
        .optional()
        .transform((s, ctx) => {
          if (s === undefined || s === '') return undefined;
          const a = readApiAddress(s);
          if ('problem' in a) {
            ctx.addIssue({ code: 'custom', message: `${JSON.stringify(s)} ${a.problem}` });
            return z.NEVER;
          }
          return a;
        }),
  }),
  output: opt({ flag: '-o, --output <file>', defaultText: '~/.kube/<vm-name>', help: 'file to write, - for stdout', schema: () => z.string().min(1).optional() }),
  outputDir: opt({ flag: '--output-dir <dir>', help: 'directory for <vm-name> files (several VMs)', schema: () => z.string().min(1).optional() }),
  wait: opt({ flag: '--wait', default: false, help: 'wait until the kubeconfig exists (Kubesolo starts 2-3 minutes after boot)', schema: () => z.boolean() }),
  ready: opt({
    flag: '--ready',
    default: false,
    help: 'wait past the file until the API answers /readyz and the node is Ready, with the kubeconfig\'s own credentials (implies --wait)',
    schema: () => z.boolean(),
  }),
  merge: opt({
    flag: '--merge [file]',
    help: "merge the cluster, user and context into FILE (default $KUBECONFIG's first file, else ~/.kube/config)",
    schema: () => z.union([z.boolean(), z.string().min(1, 'must name a file')]).optional(),
  }),
  context: opt({
    flag: '--context <name>',
    defaultText: 'the VM name',
    help: 'name of the merged cluster, user and context (with --merge)',
    schema: () => z.string().optional(),
  }),
  useContext: opt({ flag: '--use-context', default: false, help: 'make the merged context the current one (with --merge)', schema: () => z.boolean() }),
  allowUnsafeKubeconfig: opt({
    flag: '--allow-unsafe-kubeconfig',
    default: false,
    help: 'write a kubeconfig with exec plugins, file references, proxy-url... anyway, with a warning per key',
    schema: () => z.boolean(),
  }),
  timeoutSec: opt({ flag: '--timeout <seconds>', default: DEFAULT_WAIT_TIMEOUT_SEC, help: 'bound on --wait', schema: () => seconds() }),
  socket: opt({
    flag: '--socket <path>',
    help: 'guest-agent socket to use instead of discovery; {vm} is replaced by the VM name',
    schema: () => z.string().min(1).optional(),
  }),
  remotePath: opt({
    flag: '--remote-path <path>',
    default: DEFAULT_REMOTE_PATH,
    help: 'the kubeconfig in the guest',
    schema: () =>
      z.string().superRefine((p, ctx) => {
        const bad = checkRemotePath(p);
        if (bad) ctx.addIssue({ code: 'custom', message: bad });
      }),
  }),
  transport: transportOption(),
  libvirtUri: libvirtUriOption(DEFAULT_LIBVIRT_URI),
  vmIp: opt({
    flag: '--vm-ip <ip>',
    env: ['VM_IP'],
    help: 'VM address for --method ssh',
    schema: () =>
      z
        .string()
        .optional()
        .refine((s) => s === undefined || isValidHost(s.replace(/^\[|\]$/g, '')), 'must be an IP address or host name'),
  }),
  sshUser: opt({
    flag: '--ssh-user <user>',
    env: ['VM_USER'],
    default: DEFAULT_SSH_USER,
    help: 'SSH user',
    schema: () => z.string().regex(/^[a-z_][a-z0-9_.-]*\$?$/i, 'must be a user name'),
  }),
  sshKey: opt({ flag: '--ssh-key <file>', help: 'SSH private key', schema: () => z.string().min(1).optional() }),
  sshPort: opt({
    flag: '--ssh-port <port>',
    defaultText: '22',
    help: 'SSH port',
    schema: () => z.coerce.number({ error: 'must be a port number (1-65535)' }).int().min(1).max(65535, 'must be a port number (1-65535)').optional(),
  }),
  sshOptions: opt({
    flag: '--ssh-option <key=value>',
    list: true,
    default: [],
    help: 'extra ssh -o option, repeatable (e.g. UserKnownHostsFile=...)',
    schema: () => z.array(z.string().regex(/^[A-Za-z]+=[^\n\0]*$/, 'must be Key=Value, as ssh -o takes')),
  }),
  verifyServer: opt({ flag: '--no-verify-server', default: true, defaultText: 'verify', help: 'skip the TLS check of the API server address', schema: () => z.boolean() }),
  jobs: opt({
    flag: '-j, --jobs <n>',
    default: DEFAULT_JOBS,
    help: 'VMs fetched at once',
    schema: () => z.coerce.number({ error: 'must be a whole number' }).int().min(1, 'must be at least 1').max(64, 'must be at most 64'),
  }),
};
