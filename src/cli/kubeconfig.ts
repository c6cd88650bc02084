/**
 * `qemu-kubesolo kubeconfig`: the VM's admin kubeconfig through the guest agent (or SSH), its server
 * rewritten for clients, checked over TLS, written atomically with mode 0600. Several VMs in one call
 * with --output-dir and --jobs.
 */
import { isOwnStdout } from '../files/atomic.js';
import { readInputText } from '../files/read.js';
import type { Command } from 'commander';
import { openAgent } from '../agent/connect.js';
import { abortError, EXIT, isQksError } from '../errors.js';
import { stdoutTwice, vmNamesFileMissing } from './errors.js';
import { getKubeconfigs, type BatchItem } from '../kubeconfig/batch.js';
import { getKubeconfig, type KubeconfigResult } from '../kubeconfig/get.js';
import { resolveKubeconfigOptions } from '../kubeconfig/options.js';
import { KUBECONFIG_OPTIONS } from '../options/kubeconfig.js';
import { addOptions, givenFlags } from './options.js';
import type { VerbContext } from './context.js';
import type { RunAction } from './main.js';

const HELP = `
Where the file goes:
  --output FILE, or --output-dir DIR/<vm-name>; default ~/.kube/<vm-name> (the guide's ~/.kube/kubesolo).
  Written atomically (temp file + rename), mode 0600, new directories 0700. --output - prints it instead.

How it is read (guest-agent method):
  the dedicated channel org.qemu.guest_agent.1 first, then org.qemu.guest_agent.0 (or --socket); the
  file by guest-file-open/read when the agent allows it, else guest-exec of cat (see --verbose / --json).

The API server address:
  without --api-server (or KUBECONFIG_API_ADDRESS) the server stays as Kubesolo wrote it, e.g.
  https://127.0.0.1:6443, which works only inside the VM. With it, every cluster's server gets that
  host (scheme, port and path kept; ADDR may be HOST, HOST:PORT, [IPv6]:PORT or https://HOST:PORT).
  Then a TLS handshake with the kubeconfig's CA checks the address:
    certificate covers the address      -> written, verified
    certificate does not cover it       -> tls-server-name set to a name it covers (e.g. kubernetes)
    nothing answers                     -> written unverified, with a warning (with --wait: after
                                           waiting up to 30 s for the API server to come up)
    certificate from another CA         -> nothing written, exit 7 (another server answers there)
  --no-verify-server skips the check. insecure-skip-tls-verify is never set.

--wait retries while the VM is not ready (agent not up, socket missing, file not yet written) until
--timeout, noticing the file within about a second; errors waiting cannot fix fail at once (exit 5 at
the timeout). With several VMs the exit code is 8 when any failed; the others' files are kept.

--ready (implies --wait) goes on past the file until the API server answers with the kubeconfig's own
CA and client certificate; stages on stderr, times in --json (stages: agent, file, tls, readyz, node):
  TLS handshake verified -> GET /readyz 200 -> GET /api/v1/nodes shows the node Ready.
  Nothing is written or merged before. At --timeout: exit 5 naming the stage. At once, exit 7: no route
  to the address or no TCP answer at all (firewall, NAT: give the address at artifact time with
  --api-address and here with --api-server, open or forward the port), credentials refused (401/403).

--merge [FILE] merges the VM's cluster, user and context into FILE, else $KUBECONFIG's first file, else
~/.kube/config, all under --context NAME (default the VM name); other entries and comments stay, same
names are replaced, --use-context makes it current. kubectl's <file>.lock is taken (waited for up to
10 s, exit 5 if it stays), the old content kept in <file>.qemu-kubesolo.bak, the file written
atomically with mode 0600. A file that is not a kubeconfig: exit 2, nothing changed. No ~/.kube/<vm>
file is written unless --output / --output-dir asks for it too.

Refused in the fetched kubeconfig (exit 6, KUBECONFIG_UNSAFE, naming the key, e.g. users[0].user.exec;
nothing written or merged; also for --method ssh): exec, auth-provider, the file references
certificate-authority / client-certificate / client-key / tokenFile, proxy-url,
insecure-skip-tls-verify, extensions and YAML merge keys anywhere, and servers that are not
https://HOST[:PORT] (http, file, unix, a user part, a query). --allow-unsafe-kubeconfig writes it anyway
with a warning per key. --api-server refuses IPv6 zone ids (fe80::1%eth0): meaningless to other hosts.

Exit codes: 0 written; 2 bad option (nothing written); 3 not found / not ready (socket, VM, file);
4 permission (socket, SSH key, file in the guest); 5 timeout (--wait ran out, agent or SSH silent);
6 agent error, an invalid or unsafe kubeconfig (nothing written); 7 TLS check failed (certificate from
another CA), credentials refused, API address unreachable, or SSH error; 8 several VMs and some failed (the others were written); 130 interrupted.

Examples:
  $ qemu-kubesolo kubeconfig --vm-name kubesolo --api-server 10.0.0.50 --output ~/.kube/kubesolo --wait
  $ qemu-kubesolo kubeconfig --vm-name kubesolo --api-server 10.0.0.50 --ready --merge --use-context
  $ qemu-kubesolo kubeconfig --vm-name kubesolo --output - | kubectl --kubeconfig /dev/stdin get nodes
  $ qemu-kubesolo --json kubeconfig --vm-name kubesolo --api-server 203.0.113.10:6443
  $ qemu-kubesolo kubeconfig --vm-names-file vms.txt --output-dir ./kubeconfigs --jobs 4 --wait
  $ qemu-kubesolo kubeconfig --socket /run/vms/kubesolo/qga.sock --api-server k8s.example.com
  $ qemu-kubesolo kubeconfig --method ssh --vm-ip 192.168.122.50 --ssh-user alpine --ssh-key ~/.ssh/id_ed25519`;

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

async function action(ctx: VerbContext, parsed: Record<string, unknown>): Promise<number> {
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
  if (typeof flags.output === 'string' && flags.output !== '-' && (await isOwnStdout(flags.output))) flags = { ...flags, output: '-' };
  const o = resolveKubeconfigOptions(flags, ctx.env, namesFile);
  if (o.output === '-' && ctx.output.json) {
    throw stdoutTwice('--output - and --json', 'Write the kubeconfig to a file with --output FILE when using --json.');
  }
  const deps = {
    openAgent: (target: Parameters<typeof openAgent>[0], options?: { signal?: AbortSignal }) => openAgent(target, { env: ctx.env, sshPool: ctx.sshPool, ...options }),
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
    const r = await getKubeconfig(o, o.vmNames[0]!, deps);
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

export function register(program: Command, run: RunAction): void {
  const cmd = program
    .command('kubeconfig')
    .description("fetch a VM's Kubesolo kubeconfig through the guest agent (or SSH), rewrite its API server address and write it (0600)");
  addOptions(cmd, KUBECONFIG_OPTIONS)
    .addHelpText('after', HELP)
    .action(
      run((ctx, opts: Record<string, unknown>) => action(ctx, opts)),
    );
}
