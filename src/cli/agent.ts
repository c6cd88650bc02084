/**
 * `qemu-kubesolo agent ping|info|exec|cat|execute`: talk to a VM's guest agent directly, for operators
 * checking a VM and for scripts. A thin layer over src/agent/; ping and cat do their work in
 * ./agent-verbs.ts (also run without commander: ./fast.ts).
 */
import type { Command } from 'commander';
import { execSucceeded } from '../agent/client.js';
import { EXIT } from '../errors.js';
import { argumentsNotJson, argumentsNotObject } from './errors.js';
import { AGENT_CAT_OPTIONS, AGENT_EXEC_OPTIONS, AGENT_TARGET_OPTIONS } from '../options/agent.js';
import { call, cat, describeTransport, ping, resolveTarget, resolveWith, withClient } from './agent-verbs.js';
import { addOptions } from './options.js';
import type { RunAction } from './main.js';

export { resolveTarget } from './agent-verbs.js';

function addTargetOptions(cmd: Command): Command {
  return addOptions(cmd, AGENT_TARGET_OPTIONS);
}

const COMMON_HELP = `
The agent is found with --socket, or from --vm-name: the dedicated channel org.qemu.guest_agent.1
first, then the standard org.qemu.guest_agent.0 (which libvirt usually holds).`;

export function register(program: Command, run: RunAction): void {
  const agent = program
    .command('agent')
    .description('talk to a VM guest agent directly: ping, info, exec, cat, execute')
    .addHelpText(
      'after',
      `\nEach subcommand takes --vm-name NAME (discovery, dedicated channel first) or --socket PATH.\n\nExamples:\n  $ qemu-kubesolo agent ping --vm-name kubesolo\n  $ qemu-kubesolo agent info --vm-name kubesolo\n  $ qemu-kubesolo agent cat --vm-name kubesolo /var/lib/kubesolo/pki/admin/admin.kubeconfig\n  $ qemu-kubesolo agent exec --vm-name kubesolo -- /bin/uname -a`,
    );

  addTargetOptions(agent.command('ping').description('check that the guest agent answers'))
    .addHelpText('after', `${COMMON_HELP}\n\nExamples:\n  $ qemu-kubesolo agent ping --vm-name kubesolo\n  $ qemu-kubesolo --json agent ping --socket /run/libvirt/qemu/channel/1-kubesolo/org.qemu.guest_agent.1`)
    .action(
      run(ping),
    );

  addTargetOptions(agent.command('info').description('show the agent version and its commands (enabled or not)'))
    .addHelpText('after', `${COMMON_HELP}\n\nExamples:\n  $ qemu-kubesolo agent info --vm-name kubesolo\n  $ qemu-kubesolo --json agent info --socket ./qga.sock`)
    .action(
      run(async (ctx, flags: Record<string, unknown>) => {
        const o = resolveTarget(flags, ctx.env);
        const { info, transport } = await withClient(ctx, o, async (c) => ({ info: await c.info(call(o, ctx)), transport: c.transportInfo }));
        const disabled = info.commands.filter((c) => !c.enabled).map((c) => c.name);
        const text = [
          `qemu-ga ${info.version} over ${describeTransport(transport)}`,
          `${info.commands.length} commands, ${disabled.length} disabled${disabled.length ? `: ${disabled.join(', ')}` : ''}`,
          ...info.commands.map((c) => `  ${c.enabled ? '+' : '-'} ${c.name}`),
        ].join('\n');
        ctx.output.result({ ok: true, transport, ...info }, text);
      }),
    );

  addOptions(addTargetOptions(
    agent
      .command('exec')
      .description('run a program in the guest and print its output (guest-exec)')
      .argument('<path>', 'program in the guest, e.g. /bin/cat')
      .argument('[args...]', 'its arguments (put -- before arguments that start with -)'),
  ), AGENT_EXEC_OPTIONS)
    .addHelpText('after', `${COMMON_HELP}\nExit status 0 when the program exits 0, else 6 (its exit code is in the message and in --json).\n\nExamples:\n  $ qemu-kubesolo agent exec --vm-name kubesolo /bin/cat /etc/os-release\n  $ qemu-kubesolo agent exec --vm-name kubesolo -- /bin/sh -c 'rc-service kubesolo status'`)
    .action(
      run(async (ctx, path: string, args: string[], flags: Record<string, unknown>) => {
        const o = resolveTarget(flags, ctx.env);
        const { input } = resolveWith(AGENT_EXEC_OPTIONS, flags, ctx.env);
        const r = await withClient(ctx, o, (c) => c.exec(path, args, { ...call(o, ctx), ...(input !== undefined ? { input } : {}) }));
        if (ctx.output.json) {
          ctx.output.result({
            ok: execSucceeded(r),
            ...(r.exitCode !== undefined ? { exitCode: r.exitCode } : {}),
            ...(r.signal !== undefined ? { signal: r.signal } : {}),
            stdout: r.stdout.toString('utf8'),
            stderr: r.stderr.toString('utf8'),
            stdoutTruncated: r.stdoutTruncated,
            stderrTruncated: r.stderrTruncated,
          });
        } else {
          ctx.output.raw(r.stdout);
          if (r.stderr.length) ctx.output.info(r.stderr.toString('utf8').replace(/\n$/, ''));
          if (r.stdoutTruncated || r.stderrTruncated) ctx.output.warn('the agent truncated the output (16 MiB per stream)');
        }
        if (execSucceeded(r)) return EXIT.OK;
        if (!ctx.output.json) ctx.output.warn(`${path} ${r.signal !== undefined ? `was killed by signal ${r.signal}` : `exited with ${r.exitCode}`} in the guest`);
        return EXIT.AGENT;
      }),
    );

  addOptions(addTargetOptions(
    agent
      .command('cat')
      .description('print a guest file (guest-file-read, or guest-exec of cat when file access is disabled)')
      .argument('<guest-path>', 'file in the guest'),
  ), AGENT_CAT_OPTIONS)
    .addHelpText('after', `${COMMON_HELP}\nA missing file exits 3 (not found).\n\nExamples:\n  $ qemu-kubesolo agent cat --vm-name kubesolo /var/lib/kubesolo/pki/admin/admin.kubeconfig\n  $ qemu-kubesolo agent cat --socket ./qga.sock --method exec /etc/hostname`)
    .action(
      run(cat),
    );

  addTargetOptions(
    agent
      .command('execute')
      .description('send any guest-agent command and print its return value as JSON')
      .argument('<command>', 'e.g. guest-get-osinfo')
      .argument('[arguments]', 'its arguments as a JSON object'),
  )
    .addHelpText('after', `${COMMON_HELP}\n\nExamples:\n  $ qemu-kubesolo agent execute --vm-name kubesolo guest-get-osinfo\n  $ qemu-kubesolo agent execute --socket ./qga.sock guest-file-open '{"path":"/etc/hostname"}'`)
    .action(
      run(async (ctx, command: string, rawArgs: string | undefined, flags: Record<string, unknown>) => {
        const o = resolveTarget(flags, ctx.env);
        let args: Record<string, unknown> | undefined;
        if (rawArgs !== undefined) {
          let parsed: unknown;
          try {
            parsed = JSON.parse(rawArgs);
          } catch (e) {
            throw argumentsNotJson(e as Error);
          }
          if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw argumentsNotObject();
          args = parsed as Record<string, unknown>;
        }
        const value = await withClient(ctx, o, (c) => c.execute(command, args, call(o, ctx)));
        ctx.output.result({ ok: true, return: value }, JSON.stringify(value, null, 2));
      }),
    );
}
