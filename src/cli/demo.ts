import type { Command } from 'commander';
import { runDemo } from '../demo/demo.js';
import { DEMO_OPTIONS } from '../options/demo.js';
import type { RunAction } from './main.js';
import { addOptions, resolveFlags } from './options.js';

export function register(program: Command, run: RunAction): void {
  addOptions(
    program.command('demo').description('run both jobs on embedded defaults: artifacts + cidata.iso, then a kubeconfig from a fake VM over a real socket'),
    DEMO_OPTIONS,
  )
    .addHelpText(
      'after',
      `
The fake VM is the library's fake guest agent (memfs guest filesystem) on a unix socket; its
kubeconfig appears after 1.5 s, so the fetch shows --wait at work. Nothing leaves this machine: the
API address written (192.0.2.10, a documentation address) is never contacted. The environment
variables of 'artifacts' apply (VM_HOSTNAME, VM_USER, SSH_PUBLIC_KEY ...); with no SSH key found, a
throwaway one is made.

Examples:
  $ qemu-kubesolo demo
  $ qemu-kubesolo --json demo --dir /tmp/qks-demo`,
    )
    .action(
      run(async (ctx, parsed: Record<string, unknown>) => {
        const opts = resolveFlags(DEMO_OPTIONS, parsed, ctx.env, 'Run qemu-kubesolo demo --help.');
        const out = ctx.output;
        const r = await runDemo({
          dir: opts.dir,
          env: ctx.env,
          signal: ctx.signal,
          events: {
            step: (n, of, m) => out.info(`[${n}/${of}] ${m}`),
            info: (m) => out.info(`      ${m}`),
            verbose: (m) => out.verbose(`      ${m}`),
            warn: (m) => out.warn(m),
            progress: (m) => out.progress(`      ${m}`),
          },
        });
        const files = r.artifacts.files.map((f) => `  ${f.path}  ${f.bytes} bytes  sha256 ${f.sha256.slice(0, 16)}…`).join('\n');
        out.result(
          { ok: true, dir: r.dir, sshKey: r.sshKey.source, artifacts: r.artifacts, kubeconfig: r.kubeconfig },
          `Artifacts (instance-id ${r.artifacts.instanceId}):\n${files}\n` +
            `Kubeconfig: ${r.kubeconfig.path} (server ${r.kubeconfig.server}, read by ${r.kubeconfig.method} in ${Math.round(r.kubeconfig.elapsedMs)} ms)\n` +
            `To boot a real VM with these artifacts:\n  ${r.artifacts.virtInstall.command}`,
        );
      }),
    );
}
