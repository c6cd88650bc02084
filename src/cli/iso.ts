/**
 * `qemu-kubesolo iso`: packs files into a cidata.iso (ISO 9660 + Joliet + Rock Ridge) with the
 * in-process writer; no genisoimage, xorriso or mkisofs needed.
 */
import { createHash } from 'node:crypto';
import { basename, resolve } from 'node:path';
import type { Command } from 'commander';
import { z } from 'zod';
import { isQksError } from '../errors.js';
import { isoInputIsDirectory, isoInputMissing } from './errors.js';
import { isOwnStdout, writeFileAtomic } from '../files/atomic.js';
import { readInput } from '../files/read.js';
import { buildIso, DEFAULT_ISO_EPOCH, type IsoFile } from '../iso/build.js';
import { selinuxLabelCommands } from '../host/selinux.js';
import { ISO_OPTIONS } from '../options/iso.js';
import { gather, parseGathered, type TableOutput } from '../options/table.js';
import { objectSchema } from '../options/zod.js';
import { addOptions, givenFlags } from './options.js';
import type { RunAction } from './main.js';
import type { CancelSignal } from '../cancel.js';

export type IsoOptions = TableOutput<typeof ISO_OPTIONS> & { files: string[] };

/** Flags > environment > defaults, validated once (errors name "--epoch (SOURCE_DATE_EPOCH)"). */
export function resolveIsoOptions(parsed: Record<string, unknown>, files: string[], env: NodeJS.ProcessEnv): IsoOptions {
  const schema = objectSchema(ISO_OPTIONS).extend({ files: z.array(z.string()).min(1, 'name at least one file, e.g. user-data meta-data') });
  const raw = { ...gather(ISO_OPTIONS, givenFlags(ISO_OPTIONS, parsed), env), files };
  return parseGathered(ISO_OPTIONS, schema, raw, 'Run qemu-kubesolo iso --help for examples.', { files: 'FILES' }) as IsoOptions;
}

/** `NAME=LOCALPATH` puts LOCALPATH in the image as NAME (which may contain '/'); a plain path keeps its base name. */
export function parseFileArg(arg: string): { name: string; localPath: string } {
  const eq = arg.indexOf('=');
  if (eq > 0) return { name: arg.slice(0, eq), localPath: arg.slice(eq + 1) };
  return { name: basename(arg), localPath: arg };
}

/** One input, read bounded (src/files/read.ts): a FIFO or /dev/zero neither hangs nor fills memory. */
async function readIsoInput(name: string, localPath: string, signal: CancelSignal): Promise<IsoFile> {
  try {
    return { path: name, data: await readInput(localPath, 'isoFile', { what: 'input file', signal }) };
  } catch (e) {
    if (isQksError(e, 'INPUT_NOT_FOUND')) {
      throw isoInputMissing(localPath);
    }
    if (isQksError(e, 'INPUT_INVALID') && e.details.kind === 'a directory') {
      throw isoInputIsDirectory(localPath);
    }
    throw e;
  }
}

export function register(program: Command, run: RunAction): void {
  const cmd = program
    .command('iso')
    .description('pack files into an ISO 9660 image with Joliet and Rock Ridge (a cloud-init NoCloud seed: label "cidata").')
    .argument('<files...>', 'files to put in the image: PATH (keeps its base name) or NAME=PATH (NAME may hold "/")');
  addOptions(cmd, ISO_OPTIONS)
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
      run(async (ctx, files: string[], flags: Record<string, unknown>) => {
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
