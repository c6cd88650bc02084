/**
 * `qemu-kubesolo iso`: packs files into a cidata.iso (ISO 9660 + Joliet + Rock Ridge) with the
 * in-process writer; no genisoimage, xorriso or mkisofs needed.
 */
import { createHash } from 'node:crypto';
import { basename, resolve } from 'node:path';
import type { Command } from 'commander';
import { z } from 'zod';
import { isQksError, QksError, zodIssuesToMessage } from '../errors.js';
import { readInput } from '../files/read.js';
import { isOwnStdout, writeFileAtomic } from '../files/atomic.js';
import { buildIso, checkEpoch, checkVolumeId, DEFAULT_ISO_EPOCH, DEFAULT_VOLUME_ID, type IsoFile } from '../iso/build.js';
import { selinuxLabelCommands } from '../iso/selinux.js';
import type { RunAction } from './main.js';

const FIELD_NAMES = { label: '--label', out: '--out', epoch: '--epoch (SOURCE_DATE_EPOCH)', files: 'FILES' };

const IsoOptionsSchema = z.object({
  label: z.string().default(DEFAULT_VOLUME_ID),
  out: z.string({ error: 'is required (the ISO file to write, or - for stdout)' }).min(1, 'must not be empty'),
  epoch: z
    .string()
    .regex(/^\d+$/, 'must be whole seconds since 1970, e.g. 1700000000')
    .transform(Number)
    .optional(),
  printHash: z.boolean().default(false),
  selinux: z.boolean().default(false),
  files: z.array(z.string()).min(1, 'name at least one file, e.g. user-data meta-data'),
});
export type IsoOptions = z.infer<typeof IsoOptionsSchema>;

interface RawFlags {
  label?: string;
  out?: string;
  epoch?: string;
  printHash?: boolean;
  selinux?: boolean;
}

/** Flags > environment > defaults, validated once. */
export function resolveIsoOptions(flags: RawFlags, files: string[], env: NodeJS.ProcessEnv): IsoOptions {
  const epochEnv = env.SOURCE_DATE_EPOCH === '' ? undefined : env.SOURCE_DATE_EPOCH;
  const parsed = IsoOptionsSchema.safeParse({ ...flags, epoch: flags.epoch ?? epochEnv, files });
  if (!parsed.success) throw new QksError('USAGE', zodIssuesToMessage(parsed.error.issues, FIELD_NAMES), { hint: 'Run qemu-kubesolo iso --help for examples.' });
  checkVolumeId(parsed.data.label);
  if (parsed.data.epoch !== undefined) checkEpoch(parsed.data.epoch);
  return parsed.data;
}

/** `NAME=LOCALPATH` puts LOCALPATH in the image as NAME (which may contain '/'); a plain path keeps its base name. */
export function parseFileArg(arg: string): { name: string; localPath: string } {
  const eq = arg.indexOf('=');
  if (eq > 0) return { name: arg.slice(0, eq), localPath: arg.slice(eq + 1) };
  return { name: basename(arg), localPath: arg };
}

/** One input, read bounded (src/files/read.ts): a FIFO or /dev/zero neither hangs nor fills memory. */
async function readIsoInput(name: string, localPath: string, signal: AbortSignal): Promise<IsoFile> {
  try {
    return { path: name, data: await readInput(localPath, 'isoFile', { what: 'input file', signal }) };
  } catch (e) {
    if (isQksError(e, 'INPUT_NOT_FOUND')) {
      throw new QksError('INPUT_NOT_FOUND', `input file ${localPath} does not exist`, { hint: 'Check the path; write NAME=PATH to choose the name in the ISO.', details: { path: localPath } });
    }
    if (isQksError(e, 'INPUT_INVALID') && e.details.kind === 'a directory') {
      throw new QksError('USAGE', `${localPath} is a directory; the iso verb takes files`, { hint: 'Name each file, e.g. openstack/latest/meta_data.json=./meta_data.json.', details: { path: localPath } });
    }
    throw e;
  }
}

export function register(program: Command, run: RunAction): void {
  program
    .command('iso')
    .description('pack files into an ISO 9660 image with Joliet and Rock Ridge (a cloud-init NoCloud seed: label "cidata").')
    .argument('<files...>', 'files to put in the image: PATH (keeps its base name) or NAME=PATH (NAME may hold "/")')
    .requiredOption('-o, --out <file>', 'the ISO file to write (atomically, mode 0600), or - for stdout')
    .option('-l, --label <label>', `volume label: letters, digits, "_" or "-", at most 16 (default: ${DEFAULT_VOLUME_ID})`)
    .option('--epoch <seconds>', `timestamp of every entry, for reproducible images (env: SOURCE_DATE_EPOCH; default: ${DEFAULT_ISO_EPOCH}, 2000-01-01)`)
    .option('--print-hash', 'print the sha256 of the image')
    .option('--selinux', `print the commands that label the image virt_content_t for QEMU on SELinux hosts (RHEL, Fedora)`)
    .addHelpText(
      'after',
      `
Names in the image are kept exactly (user-data, meta-data, network-config) for Linux (Rock Ridge) and
other readers (Joliet). The same files, label and epoch always give the same bytes.

Examples:
  $ qemu-kubesolo iso --out cidata.iso user-data meta-data network-config
  $ qemu-kubesolo iso -o seed.iso user-data=./out/user-data meta-data=./out/meta-data
  $ SOURCE_DATE_EPOCH=1700000000 qemu-kubesolo iso -o cidata.iso --print-hash user-data meta-data
  $ qemu-kubesolo --json iso -o /var/lib/libvirt/images/vm1-cidata.iso --selinux user-data meta-data`,
    )
    .action(
      run(async (ctx, files: string[], flags: RawFlags) => {
        const opts = resolveIsoOptions(flags, files, ctx.env);
        const inputs = await Promise.all(opts.files.map((arg) => parseFileArg(arg)).map(({ name, localPath }) => readIsoInput(name, localPath, ctx.signal)));
        const started = performance.now();
        const iso = buildIso(inputs, { volumeId: opts.label, epoch: opts.epoch });
        ctx.output.verbose(`built ${iso.byteLength} bytes in ${(performance.now() - started).toFixed(2)} ms`);
        const sha256 = createHash('sha256').update(iso).digest('hex');
        const toStdout = opts.out === '-' || (await isOwnStdout(opts.out));
        const path = toStdout ? '-' : resolve(opts.out) + (opts.out.endsWith('/') ? '/' : ''); // a trailing '/' is refused by the writer, naming it
        if (toStdout) ctx.output.raw(iso);
        else await writeFileAtomic(path, iso, { signal: ctx.signal });
        const selinux = opts.selinux && !toStdout ? selinuxLabelCommands(path) : undefined;
        if (opts.selinux && toStdout) ctx.output.warn('--selinux needs a file path; nothing to label for --out -');
        if (toStdout) {
          ctx.output.info(`wrote ${iso.byteLength} bytes to stdout${opts.printHash ? ` sha256 ${sha256}` : ''}`);
          return 0;
        }
        const lines = [`wrote ${path} (${iso.byteLength} bytes, label ${opts.label})`];
        if (opts.printHash) lines.push(`sha256 ${sha256}`);
        if (selinux) lines.push('# label it for QEMU under SELinux (as root):', ...selinux);
        ctx.output.result(
          {
            ok: true,
            path,
            bytes: iso.byteLength,
            sha256,
            label: opts.label,
            epoch: opts.epoch ?? DEFAULT_ISO_EPOCH,
            files: inputs.map((f) => ({ name: f.path, bytes: (f.data as Uint8Array).byteLength })),
            ...(selinux ? { selinux } : {}),
          },
          lines.join('\n'),
        );
        return 0;
      }),
    );
}
