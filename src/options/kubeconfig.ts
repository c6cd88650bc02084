/** The `kubeconfig` verb's options: one row each (see src/options/table.ts for the rules). */
import { z } from 'zod';
import { DEFAULT_LIBVIRT_URI } from '../libvirt/uri.js';
import { isValidHost, parseApiAddress } from '../kubeconfig/rewrite.js';
import { checkRemotePath } from '../kubeconfig/ssh.js';
import { opt } from './table.js';
import { firstOfList, libvirtUriOption, seconds, transportOption, vmNameSchema, VM_NAME_ENV, DEFAULT_VM_NAME } from './shared.js';

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
    schema: () => z.array(vmNameSchema()).min(1, 'give at least one VM name'),
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
          const a = parseApiAddress(s);
          if (!a) {
            ctx.addIssue({ code: 'custom', message: `${JSON.stringify(s)} is not an IP address or DNS name (optionally with :PORT, IPv6 as [addr]:PORT)` });
            return z.NEVER;
          }
          return a;
        }),
  }),
  output: opt({ flag: '-o, --output <file>', defaultText: '~/.kube/<vm-name>', help: 'file to write, - for stdout', schema: () => z.string().min(1).optional() }),
  outputDir: opt({ flag: '--output-dir <dir>', help: 'directory for <vm-name> files (several VMs)', schema: () => z.string().min(1).optional() }),
  wait: opt({ flag: '--wait', default: false, help: 'wait until the kubeconfig exists (Kubesolo starts 2-3 minutes after boot)', schema: () => z.boolean() }),
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
