/**
 * The `agent` subcommands' options (see src/options/table.ts for the rules). Plain parsers, not zod:
 * the agent verb's start-up loads no schema library (bench/startup.md).
 */
import { coerceNumber, oneOf, optional, positiveInt, string, ok, type Parser } from './parsers.js';
import { opt } from './table.js';
import { libvirtUriOption, transportOption, vmNameOption } from './shared.js';

// beyond 2^31-1 ms, Node's setTimeout fires at once
const MAX_TIMEOUT_SEC = 2_147_483;

const timeoutMs: Parser<number> = (v) => {
  const r = coerceNumber(v, 'must be a number of seconds, e.g. 3');
  if (!r.ok) return r;
  if (!(r.value > 0)) return { ok: false, message: 'must be a positive number of seconds' };
  if (r.value > MAX_TIMEOUT_SEC) return { ok: false, message: `must be at most ${MAX_TIMEOUT_SEC} seconds` };
  return ok(Math.round(r.value * 1000));
};

/** Which agent, for every subcommand. */
export const AGENT_TARGET_OPTIONS = {
  socket: opt({
    flag: '--socket <path>',
    help: 'the guest-agent socket (instead of discovery by --vm-name)',
    parse: optional(string([(s) => s.length >= 1, 'Too small: expected string to have >=1 characters'])),
  }),
  vmName: vmNameOption('libvirt domain whose agent channel to find (ignored with --socket)'),
  libvirtUri: libvirtUriOption(),
  transport: transportOption(),
  timeoutMs: opt({
    flag: '--timeout <seconds>',
    defaultText: '10 s per command, 30 s for exec and cat',
    help: 'bound on the operation',
    parse: optional(timeoutMs),
  }),
};

export const AGENT_EXEC_OPTIONS = {
  input: opt({ flag: '--input <text>', help: 'text for the program on stdin', parse: optional(string()) }),
};

export const AGENT_CAT_OPTIONS = {
  method: opt({
    flag: '--method <method>',
    default: 'auto',
    help: 'file, exec or auto (file, falling back to exec when disabled)',
    parse: oneOf(['file', 'exec', 'auto'], 'must be file, exec or auto'),
  }),
  maxBytes: opt({
    flag: '--max-bytes <n>',
    defaultText: '16 MiB',
    help: 'refuse files larger than this',
    parse: optional(positiveInt('must be a positive integer')),
  }),
};
