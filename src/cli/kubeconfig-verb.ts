/**
 * The `kubeconfig` verb's action without commander: src/cli/kubeconfig.ts registers it with commander,
 * src/cli/fast.ts runs the lines it fully understands straight here (bench/startup.md).
 */
import { isOwnStdout } from '../files/atomic.js';
import { readInputText } from '../files/read.js';
import { openAgent } from '../agent/connect.js';
import { abortError, EXIT, isQksError } from '../errors.js';
import { stdoutTwice, vmNamesFileMissing } from './errors.js';
import { getKubeconfigs, type BatchItem } from '../kubeconfig/batch.js';
import { getKubeconfig, type KubeconfigResult } from '../kubeconfig/get.js';
import { resolveKubeconfigOptions } from '../kubeconfig/options.js';
import { KUBECONFIG_OPTIONS } from '../options/kubeconfig.js';
import { givenFlags } from './flags.js';
import type { VerbContext } from './context.js';
import type { CancelSignal } from '../cancel.js';

function describe(r: KubeconfigResult): string {
  const via = r.transport ? ` over ${r.transport.channel ?? r.transport.kind}` : '';
  const tls = r.tls.verified ? `TLS verified${r.tls.tlsServerName ? ` (tls-server-name ${r.tls.tlsServerName})` : ''}` : `TLS not verified: ${r.tls.reason}`;
  const ready = r.stages ? `, node ${r.node} Ready (${Object.entries(r.stages).map(([k, v]) => `${k} ${v} ms`).join(', ')})` : '';
  const merged = r.merged
    ? `${r.merged.path === r.path ? 'merged into' : `, merged into`} ${r.merged.path} as context ${r.merged.context}${r.merged.replaced.context ? ' (replaced)' : ''}${r.merged.currentContext.to === r.merged.context ? ', now current' : ''}${r.merged.backup ? `; backup ${r.merged.backup}` : ''}`
    : '';
  const what = r.merged && r.merged.path === r.path ? merged : `wrote ${r.path === '-' ? 'stdout' : r.path}${merged}`;
  return `${r.vm}: ${what} (${r.bytes} bytes, server ${r.server}, read by ${r.method}${via}, ${tls}${ready}, ${r.elapsedMs} ms)`;
}

function jsonOf(r: KubeconfigResult): Record<string, unknown> {
  return { ok: true, ...r };
}

/** The verb, from its options as commander gives them (attribute names, strings, lists, booleans). */
export async function action(ctx: VerbContext, parsed: Record<string, unknown>): Promise<number> {
  let flags = givenFlags(KUBECONFIG_OPTIONS, parsed);
  let namesFile: string | undefined;
  if (typeof flags.vmNamesFile === 'string' && flags.vmNamesFile) {
    try {
      namesFile = await readInputText(flags.vmNamesFile, 'namesFile', { what: '--vm-names-file', signal: ctx.signal });
    } catch (e) {
      if (!isQksError(e, 'INPUT_NOT_FOUND')) throw e; // a device, too large, a pipe that never ends: bounded (src/files/read.ts)
      throw vmNamesFileMissing(flags.vmNamesFile);
    }
  }
  // --output /dev/stdout is --output -: the result lines then stay off the kubeconfig's stream
  // (blocking calls: nothing else runs yet; src/files/fs.ts blockingFs)
  if (typeof flags.output === 'string' && flags.output !== '-' && (await isOwnStdout(flags.output, { blocking: true }))) flags = { ...flags, output: '-' };
  const o = resolveKubeconfigOptions(flags, ctx.env, namesFile);
  if (o.output === '-' && ctx.output.json) {
    throw stdoutTwice('--output - and --json', 'Write the kubeconfig to a file with --output FILE when using --json.');
  }
  const deps = {
    openAgent: (target: Parameters<typeof openAgent>[0], options?: { signal?: CancelSignal }) => openAgent(target, { env: ctx.env, sshPool: ctx.sshPool, ...options }),
    signal: ctx.signal,
    env: ctx.env,
    stdout: (text: string) => ctx.output.raw(text),
    events: {
      info: (m: string) => ctx.output.info(m),
      verbose: (m: string) => ctx.output.verbose(m),
      warn: (m: string) => ctx.output.warn(m),
      progress: (m: string) => ctx.output.progress(m),
    },
  };

  if (o.vmNames.length === 1) {
    // one VM: its write is all this process has left to do, so it blocks (src/kubeconfig/get.ts blockingWrite)
    const r = await getKubeconfig(o, o.vmNames[0]!, { ...deps, blockingWrite: true });
    if (r.path === '-') {
      ctx.output.clearProgress();
      ctx.output.verbose(describe(r));
    } else ctx.output.result(jsonOf(r), describe(r));
    return EXIT.OK;
  }

  const onDone = (item: BatchItem) => {
    if (item.ok) ctx.output.result(jsonOf(item.result), describe(item.result));
    else {
      if (ctx.output.json) ctx.output.result({ ok: false, vm: item.vm, error: item.error.toJSON() });
      ctx.output.warn(`${item.vm}: ${item.error.message} [${item.error.code}]`);
    }
  };
  const items = await getKubeconfigs(o, deps, onDone);
  // Ctrl-C ends the batch as interrupted (130), not as a partial failure of the VMs it cut short
  if (ctx.signal.aborted) throw abortError(ctx.signal);
  const failed = items.filter((i) => !i.ok);
  ctx.output.info(`${items.length - failed.length} of ${items.length} kubeconfigs written${failed.length ? `; failed: ${failed.map((f) => f.vm).join(', ')}` : ''}`);
  return failed.length ? EXIT.PARTIAL : EXIT.OK;
}

