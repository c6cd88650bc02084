/** The `fake-agent` verb's options (see src/options/table.ts for the rules). Keys follow FakeAgentFaults. */
import { z } from 'zod';
import { opt } from './table.js';

const count = () => z.coerce.number({ error: 'must be a whole number >= 0' }).int('must be a whole number >= 0').min(0, 'must be a whole number >= 0').optional();
const specs = () => z.array(z.string());

export const FAKE_AGENT_OPTIONS = {
  socket: opt({ flag: '--socket <path>', required: true, help: 'unix socket to listen on', schema: () => z.string().min(1, 'must not be empty') }),
  files: opt({ flag: '--file <guest=local>', list: true, default: [], help: 'a guest file: GUEST_PATH=LOCAL_FILE (repeatable)', schema: specs }),
  filesAfter: opt({ flag: '--file-after <ms:guest=local>', list: true, default: [], help: 'a guest file that appears after MS milliseconds (repeatable)', schema: specs }),
  disabled: opt({ flag: '--disable <command>', list: true, default: [], help: 'report this command as disabled, like qemu-ga -b (repeatable)', schema: specs }),
  delayMs: opt({ flag: '--delay <ms>', help: 'wait before each reply', schema: count }),
  splitWrites: opt({ flag: '--split <bytes>', help: 'write replies in pieces of this size', schema: count }),
  execPolls: opt({ flag: '--exec-polls <n>', defaultText: '2', help: 'guest-exec-status says "not exited" this many times first', schema: count }),
  garbage: opt({ flag: '--garbage <text>', help: 'send this to each client before anything else', schema: () => z.string().optional() }),
  stale: opt({ flag: '--stale', default: false, help: 'send stale replies to each client before anything else', schema: () => z.boolean() }),
  disconnectMidReply: opt({ flag: '--disconnect-mid-reply', default: false, help: 'close the connection halfway through each command reply', schema: () => z.boolean() }),
  neverAnswer: opt({ flag: '--never-answer', default: false, help: 'accept clients and never answer (a held socket)', schema: () => z.boolean() }),
  syncDelimited: opt({ flag: '--no-sync-delimited', default: true, defaultText: 'supported', help: 'behave like an agent without guest-sync-delimited', schema: () => z.boolean() }),
};
