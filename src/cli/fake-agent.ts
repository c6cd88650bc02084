/**
 * `qemu-kubesolo fake-agent`: a qemu-ga look-alike on a unix socket, for trying the tool (and wrappers
 * around it) without a VM. Serves until Ctrl-C.
 */
import { readInput } from '../files/read.js';
import type { Command } from 'commander';
import { startFakeAgent, type FakeAgentFaults } from '../fake-agent/index.js';
import { cannotListen, fileSpecInvalid } from './errors.js';
import { FAKE_AGENT_OPTIONS } from '../options/fake-agent.js';
import { addOptions, resolveFlags } from './options.js';
import type { RunAction } from './main.js';

async function loadFile(flag: string, spec: string): Promise<{ guestPath: string; data: Buffer; afterMs?: number }> {
  // GUEST_PATH=LOCAL_FILE, or for --file-after MS:GUEST_PATH=LOCAL_FILE
  let rest = spec;
  let afterMs: number | undefined;
  if (flag === '--file-after') {
    const m = /^(\d+):(.*)$/.exec(spec);
    if (!m) throw fileSpecInvalid(flag, spec, 'MS:GUEST_PATH=LOCAL_FILE');
    afterMs = Number(m[1]);
    rest = m[2]!;
  }
  const eq = rest.indexOf('=');
  if (eq <= 0 || !rest.startsWith('/')) throw fileSpecInvalid(flag, spec, 'GUEST_PATH=LOCAL_FILE with an absolute guest path');
  const local = rest.slice(eq + 1);
  // bounded (src/files/read.ts): a FIFO or a device as LOCAL_FILE neither hangs nor fills memory
  const data = await readInput(local, 'fakeAgentFile', { what: `${flag} ${spec}` });
  return { guestPath: rest.slice(0, eq), data, ...(afterMs !== undefined ? { afterMs } : {}) };
}

export function register(program: Command, run: RunAction): void {
  addOptions(
    program.command('fake-agent').description('serve a fake QEMU guest agent on a unix socket (a test harness: no VM needed)'),
    FAKE_AGENT_OPTIONS,
  )
    .addHelpText(
      'after',
      `
The fake speaks qemu-ga's protocol for guest-sync(-delimited), guest-ping, guest-info, guest-exec
(+status; cat, echo, true, false, sh -c over its in-memory files) and guest-file-open/read/write/close.
It serves one client at a time, like qemu-ga.

Examples:
  $ qemu-kubesolo fake-agent --socket /tmp/qga.sock --file /var/lib/kubesolo/pki/admin/admin.kubeconfig=./kubeconfig
  $ qemu-kubesolo fake-agent --socket /tmp/qga.sock --file-after 5000:/etc/ready=./ready --disable guest-exec
  $ qemu-kubesolo agent cat --socket /tmp/qga.sock /var/lib/kubesolo/pki/admin/admin.kubeconfig`,
    )
    .action(
      run(async (ctx, parsed: Record<string, unknown>) => {
        const flags = resolveFlags(FAKE_AGENT_OPTIONS, parsed, ctx.env, 'Run qemu-kubesolo fake-agent --help for examples.');
        const files: Record<string, Buffer> = {};
        for (const spec of flags.files) {
          const f = await loadFile('--file', spec);
          files[f.guestPath] = f.data;
        }
        const later = await Promise.all(flags.filesAfter.map((s) => loadFile('--file-after', s)));
        const { delayMs, splitWrites, execPolls } = flags;
        const faults: FakeAgentFaults = {
          ...(flags.disabled.length ? { disabled: flags.disabled } : {}),
          ...(delayMs ? { delayMs } : {}),
          ...(splitWrites ? { splitWrites } : {}),
          ...(execPolls !== undefined ? { execPolls } : {}),
          ...(flags.garbage ? { garbage: flags.garbage } : {}),
          ...(flags.stale ? { staleReplies: [{ return: 1 }, '{"return": {"pid": 1'] } : {}),
          ...(flags.disconnectMidReply ? { disconnectMidReply: true } : {}),
          ...(flags.neverAnswer ? { neverAnswer: true } : {}),
          ...(flags.syncDelimited === false ? { noSyncDelimited: true } : {}),
        };
        let agent;
        try {
          agent = await startFakeAgent({ socketPath: flags.socket, files, faults });
        } catch (e) {
          throw cannotListen(flags.socket, e as NodeJS.ErrnoException);
        }
        for (const f of later) agent.setFile(f.guestPath, f.data, { afterMs: f.afterMs! });
        ctx.output.info(`fake guest agent listening on ${flags.socket} (${Object.keys(files).length + later.length} files); Ctrl-C stops it`);
        ctx.output.result({ ok: true, socket: flags.socket, files: [...Object.keys(files), ...later.map((f) => f.guestPath)] });
        await new Promise<void>((resolve) => {
          if (ctx.signal.aborted) resolve();
          else ctx.signal.addEventListener('abort', () => resolve(), { once: true });
        });
        await agent.close();
        ctx.output.info(`fake guest agent stopped (${agent.requests.length} requests served)`);
        return 0;
      }),
    );
}
