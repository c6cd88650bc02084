/** The `iso` verb's options (see src/options/table.ts for the rules), and SOURCE_DATE_EPOCH for every verb. */
import { DEFAULT_ISO_EPOCH, DEFAULT_VOLUME_ID, VOLUME_ID_PATTERN } from '../iso/build.js';
import { MAX_EPOCH } from '../iso/records.js';
import { boolean, ok, optional, string, type Parser } from './parsers.js';
import { configError, envValue, opt } from './table.js';

// Plain parsers with the messages the rows' zod schemas gave: artifacts reads SOURCE_DATE_EPOCH through
// epochFromEnv, and loads no zod (bench/startup.md).

/** Whole seconds since 1970 that an ISO directory record can hold (iso --epoch, SOURCE_DATE_EPOCH). */
export const parseEpoch: Parser<number | undefined> = optional((v) => {
  const s = string([(t) => /^\d{1,12}$/.test(t), 'must be whole seconds since 1970, e.g. 1700000000'])(v);
  if (!s.ok) return s;
  const n = Number(s.value);
  return n <= MAX_EPOCH ? ok(n) : { ok: false, message: [`must be at most ${MAX_EPOCH} (year 2155)`] };
});

export const ISO_OPTIONS = {
  out: opt({ flag: '-o, --out <file>', required: true, help: 'the ISO file to write (atomically, mode 0600), or - for stdout', parse: string([(s) => s.length >= 1, 'must not be empty']) }),
  label: opt({
    flag: '-l, --label <label>',
    default: DEFAULT_VOLUME_ID,
    help: 'volume label: letters, digits, "_" or "-", at most 16',
    parse: string([(s) => VOLUME_ID_PATTERN.test(s), 'may hold only letters, digits, "_" and "-", 1 to 16 of them']),
  }),
  epoch: opt({
    flag: '--epoch <seconds>',
    env: ['SOURCE_DATE_EPOCH'],
    defaultText: `${DEFAULT_ISO_EPOCH}, 2000-01-01`,
    help: 'timestamp of every entry, for reproducible images',
    parse: parseEpoch,
  }),
  printHash: opt({ flag: '--print-hash', default: false, help: 'print the sha256 of the image', parse: boolean }),
  selinux: opt({ flag: '--selinux', default: false, help: 'print the commands that label the image virt_content_t for QEMU on SELinux hosts (RHEL, Fedora)', parse: boolean }),
};

/** SOURCE_DATE_EPOCH where no flag sets it (artifacts): the same rule and error (CONFIG_INVALID) as `iso --epoch`. */
export function epochFromEnv(env: NodeJS.ProcessEnv): number | undefined {
  const text = envValue(env, 'SOURCE_DATE_EPOCH');
  if (text === undefined) return undefined;
  const r = parseEpoch(text);
  if (!r.ok) {
    const issues = (typeof r.message === 'string' ? [r.message] : r.message).map((message) => ({ path: ['epoch'], message }));
    throw configError({}, issues, 'Unset it, or set it to a Unix time such as 1700000000.', { epoch: 'SOURCE_DATE_EPOCH' });
  }
  return r.value;
}
