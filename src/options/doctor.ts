/** The `doctor` verb's options (see src/options/table.ts for the rules). */
import { z } from 'zod';
import { DEFAULT_REMOTE_PATH } from './kubeconfig.js';
import { opt } from './table.js';
import { firstOfList, libvirtUriOption, transportOption, vmNameOption } from './shared.js';

export const DOCTOR_OPTIONS = {
  vmName: vmNameOption('libvirt domain to check (ignored with --socket)'),
  socket: opt({ flag: '--socket <path>', help: 'check this guest-agent socket instead of finding one by VM name', schema: () => z.string().min(1).optional() }),
  libvirtUri: libvirtUriOption(),
  apiServer: opt({
    flag: '--api-server <addr>',
    env: ['KUBECONFIG_API_ADDRESS'],
    fromEnv: firstOfList,
    help: 'address clients use for the API server: TCP connect to it (port 6443 unless given)',
    schema: () => z.string().min(1).optional(),
  }),
  iso: opt({ flag: '--iso <path>', help: 'the cidata.iso: check its SELinux label where SELinux is on', schema: () => z.string().min(1).optional() }),
  remotePath: opt({ flag: '--remote-path <path>', default: DEFAULT_REMOTE_PATH, help: 'the kubeconfig in the guest', schema: () => z.string().startsWith('/', 'must be an absolute path in the guest') }),
  transport: transportOption(),
  handshakeTimeoutMs: opt({
    flag: '--timeout <seconds>',
    defaultText: '3',
    help: 'bound on the agent handshake',
    schema: () =>
      z
        .string()
        .regex(/^\d+(\.\d+)?$/, 'must be seconds, e.g. 3')
        .transform((s) => Math.round(Number(s) * 1000))
        .refine((ms) => ms > 0, 'must be more than 0 seconds')
        .optional(),
  }),
};
