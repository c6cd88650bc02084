/** The `agent` subcommands' options (see src/options/table.ts for the rules). */
import { z } from 'zod';
import { opt } from './table.js';
import { libvirtUriOption, transportOption, vmNameOption } from './shared.js';

/** Which agent, for every subcommand. */
export const AGENT_TARGET_OPTIONS = {
  socket: opt({ flag: '--socket <path>', help: 'the guest-agent socket (instead of discovery by --vm-name)', schema: () => z.string().min(1).optional() }),
  vmName: vmNameOption('libvirt domain whose agent channel to find (ignored with --socket)'),
  libvirtUri: libvirtUriOption(),
  transport: transportOption(),
  timeoutMs: opt({
    flag: '--timeout <seconds>',
    defaultText: '10 s per command, 30 s for exec and cat',
    help: 'bound on the operation',
    schema: () =>
      z.coerce
        .number({ error: 'must be a number of seconds, e.g. 3' })
        .positive('must be a positive number of seconds')
        // beyond 2^31-1 ms, Node's setTimeout fires at once
        .max(2_147_483, 'must be at most 2147483 seconds')
        .transform((s) => Math.round(s * 1000))
        .optional(),
  }),
};

export const AGENT_EXEC_OPTIONS = {
  input: opt({ flag: '--input <text>', help: 'text for the program on stdin', schema: () => z.string().optional() }),
};

export const AGENT_CAT_OPTIONS = {
  method: opt({
    flag: '--method <method>',
    default: 'auto',
    help: 'file, exec or auto (file, falling back to exec when disabled)',
    schema: () => z.enum(['file', 'exec', 'auto'], { error: 'must be file, exec or auto' }),
  }),
  maxBytes: opt({
    flag: '--max-bytes <n>',
    defaultText: '16 MiB',
    help: 'refuse files larger than this',
    schema: () => z.coerce.number({ error: 'must be a positive integer' }).int('must be a positive integer').positive('must be a positive integer').optional(),
  }),
};
