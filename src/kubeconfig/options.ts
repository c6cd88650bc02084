/**
 * The `kubeconfig` options: flags > environment variables > defaults, resolved into one object and
 * validated by one zod schema whose errors name the flag (and variable).
 */
import { z } from 'zod';
import { QksError, zodIssuesToMessage } from '../errors.js';
import { DEFAULT_LIBVIRT_URI } from '../libvirt/uri.js';
import { isValidHost, readApiAddress } from './rewrite.js';
import { checkRemotePath } from './ssh.js';

export const DEFAULT_REMOTE_PATH = '/var/lib/kubesolo/pki/admin/admin.kubeconfig';
export const DEFAULT_VM_NAME = 'kubesolo';
export const DEFAULT_SSH_USER = 'alpine';
export const DEFAULT_WAIT_TIMEOUT_SEC = 300;
export const DEFAULT_JOBS = 4;

/** A libvirt domain name that is also safe as a file name in --output-dir. */
const VmName = z
  .string()
  .min(1, 'must not be empty')
  .max(200, 'is too long')
  .refine((s) => !/[/\0\n\r]/.test(s) && s !== '.' && s !== '..' && !s.startsWith('-'), 'must not contain "/" or line breaks, start with "-", or be . or ..');

const Seconds = z.coerce.number({ error: 'must be a number of seconds' }).int('must be a whole number of seconds').min(1, 'must be at least 1').max(86_400, 'must be at most 86400 (a day)');

export const KubeconfigOptionsSchema = z
  .object({
    vmNames: z.array(VmName).min(1, 'give at least one VM name'),
    method: z.enum(['guest-agent', 'ssh'], { error: 'must be guest-agent or ssh' }),
    apiServer: z
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
    /** A file, or '-' for stdout. */
    output: z.string().min(1).optional(),
    outputDir: z.string().min(1).optional(),
    wait: z.boolean(),
    timeoutSec: Seconds,
    /** An explicit agent socket; `{vm}` is replaced by each VM's name. */
    socket: z.string().min(1).optional(),
    remotePath: z.string().superRefine((p, ctx) => {
      const bad = checkRemotePath(p);
      if (bad) ctx.addIssue({ code: 'custom', message: bad });
    }),
    transport: z.enum(['auto', 'direct', 'libvirt'], { error: 'must be auto, direct or libvirt' }),
    libvirtUri: z.string().min(1),
    vmIp: z
      .string()
      .optional()
      .refine((s) => s === undefined || isValidHost(s.replace(/^\[|\]$/g, '')), 'must be an IP address or host name'),
    sshUser: z.string().regex(/^[a-z_][a-z0-9_.-]*\$?$/i, 'must be a user name'),
    sshKey: z.string().min(1).optional(),
    sshPort: z.coerce.number({ error: 'must be a port number (1-65535)' }).int().min(1).max(65535, 'must be a port number (1-65535)').optional(),
    sshOptions: z.array(z.string().regex(/^[A-Za-z]+=[^\n\0]*$/, 'must be Key=Value, as ssh -o takes')),
    verifyServer: z.boolean(),
    jobs: z.coerce.number({ error: 'must be a whole number' }).int().min(1, 'must be at least 1').max(64, 'must be at most 64'),
  })
  .superRefine((o, ctx) => {
    const many = o.vmNames.length > 1;
    if (o.output !== undefined && o.outputDir !== undefined) ctx.addIssue({ code: 'custom', path: ['output'], message: 'give --output or --output-dir, not both' });
    if (many && o.output !== undefined) ctx.addIssue({ code: 'custom', path: ['output'], message: 'with several VMs, use --output-dir (one file per VM)' });
    if (many && o.method === 'ssh') ctx.addIssue({ code: 'custom', path: ['method'], message: 'ssh takes one VM (one --vm-ip); fetch several VMs with guest-agent' });
    if (many && o.socket !== undefined && !o.socket.includes('{vm}')) ctx.addIssue({ code: 'custom', path: ['socket'], message: 'with several VMs, the socket path must contain {vm}' });
    if (new Set(o.vmNames).size !== o.vmNames.length) ctx.addIssue({ code: 'custom', path: ['vmNames'], message: 'a VM is named twice' });
    if (o.method === 'ssh' && !o.vmIp) ctx.addIssue({ code: 'custom', path: ['vmIp'], message: 'is required with --method ssh' });
  });

export type KubeconfigOptions = z.output<typeof KubeconfigOptionsSchema>;

/** Flags as commander hands them over (camelCase of each long option). */
export interface KubeconfigFlags {
  vmName?: string[];
  vmNamesFile?: string;
  method?: string;
  apiServer?: string;
  output?: string;
  outputDir?: string;
  wait?: boolean;
  timeout?: string;
  socket?: string;
  remotePath?: string;
  transport?: string;
  libvirtUri?: string;
  vmIp?: string;
  sshUser?: string;
  sshKey?: string;
  sshPort?: string;
  sshOption?: string[];
  verifyServer?: boolean;
  jobs?: string;
}

/** Names of each field as the user wrote it, for error messages. */
export const FIELD_NAMES: Record<string, string> = {
  vmNames: '--vm-name (VM_NAME)',
  method: '--method',
  apiServer: '--api-server (KUBECONFIG_API_ADDRESS)',
  output: '--output',
  outputDir: '--output-dir',
  timeoutSec: '--timeout',
  socket: '--socket',
  remotePath: '--remote-path',
  transport: '--transport',
  libvirtUri: '--libvirt-uri (LIBVIRT_URI)',
  vmIp: '--vm-ip (VM_IP)',
  sshUser: '--ssh-user (VM_USER)',
  sshKey: '--ssh-key',
  sshPort: '--ssh-port',
  sshOptions: '--ssh-option',
  jobs: '--jobs',
};

/** Reads a file of VM names: one per line, blank lines and `#` comments ignored. */
export function parseVmNamesFile(text: string): string[] {
  return text
    .split('\n')
    .map((l) => l.replace(/#.*/, '').trim())
    .filter(Boolean);
}

/**
 * Flags > environment > defaults, validated. `namesFromFile` is the content of --vm-names-file (read by
 * the caller: this stays pure). Throws CONFIG_INVALID naming every bad option.
 */
export function resolveKubeconfigOptions(flags: KubeconfigFlags, env: NodeJS.ProcessEnv, namesFromFile?: string): KubeconfigOptions {
  const names = [...(flags.vmName ?? []), ...(namesFromFile !== undefined ? parseVmNamesFile(namesFromFile) : [])];
  const raw = {
    vmNames: names.length ? names : [env.VM_NAME || env.VM_HOSTNAME || DEFAULT_VM_NAME],
    method: flags.method ?? 'guest-agent',
    // the variable may list several addresses (artifacts puts them all in the certificate); clients use the first
    apiServer: flags.apiServer ?? env.KUBECONFIG_API_ADDRESS?.split(/[\s,]+/).find(Boolean),
    output: flags.output,
    outputDir: flags.outputDir,
    wait: !!flags.wait,
    timeoutSec: flags.timeout ?? DEFAULT_WAIT_TIMEOUT_SEC,
    socket: flags.socket,
    remotePath: flags.remotePath ?? DEFAULT_REMOTE_PATH,
    transport: flags.transport ?? 'auto',
    libvirtUri: flags.libvirtUri ?? (env.LIBVIRT_URI || DEFAULT_LIBVIRT_URI),
    vmIp: flags.vmIp ?? (env.VM_IP || undefined),
    sshUser: flags.sshUser ?? (env.VM_USER || DEFAULT_SSH_USER),
    sshKey: flags.sshKey,
    sshPort: flags.sshPort,
    sshOptions: flags.sshOption ?? [],
    verifyServer: flags.verifyServer !== false,
    jobs: flags.jobs ?? DEFAULT_JOBS,
  };
  const r = KubeconfigOptionsSchema.safeParse(raw);
  if (!r.success) {
    throw new QksError('CONFIG_INVALID', zodIssuesToMessage(
        r.error.issues.map((i) => ({ ...i, path: i.path.slice(0, 1) })), // vmNames.3 -> --vm-name
        FIELD_NAMES,
      ), {
      hint: 'Fix the option named above; see qemu-kubesolo kubeconfig --help. Nothing was written.',
    });
  }
  return r.data;
}
