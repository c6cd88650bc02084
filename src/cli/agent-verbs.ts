/**
 * The `agent` subcommands' work, apart from their commander registration (./agent.ts), so that `agent
 * ping|cat` also run without commander (./fast.ts). A thin layer over src/agent/.
 */
import { withAgent, type AgentTarget } from '../agent/connect.js';
import type { AgentClient } from '../agent/client.js';
import { DEFAULT_TIMEOUTS } from '../agent/timeouts.js';
import type { TransportInfo } from '../agent/transport.js';
import { monotonicMs } from '../deadline.js';
import { AGENT_CAT_OPTIONS, AGENT_TARGET_OPTIONS } from '../options/agent.js';
import { vmNameBeside } from '../options/shared.js';
import type { TableOutput } from '../options/table.js';
import type { VerbContext } from './context.js';
import { givenFlags, resolveFlags } from './flags.js';

export type TargetOptions = Omit<TableOutput<typeof AGENT_TARGET_OPTIONS>, 'vmName'> & { vmName?: string };
const HINT = 'Fix the option named above; see qemu-kubesolo agent --help.';

export const resolveWith = <T extends Parameters<typeof resolveFlags>[0]>(table: T, parsed: Record<string, unknown>, env: NodeJS.ProcessEnv) => resolveFlags(table, parsed, env, HINT);

/** Which agent: flags > environment > defaults, validated once (the VM name only without --socket, or when given). */
export function resolveTarget(parsed: Record<string, unknown>, env: NodeJS.ProcessEnv): TargetOptions {
  const o = resolveWith(AGENT_TARGET_OPTIONS, parsed, env);
  const given = givenFlags(AGENT_TARGET_OPTIONS, parsed);
  const vmName = vmNameBeside(o.socket, given.vmName, o.vmName);
  const { vmName: _drop, ...rest } = o;
  return { ...rest, ...(vmName !== undefined ? { vmName } : {}) };
}

export function describeTransport(t: TransportInfo): string {
  return [t.kind, t.channel, t.socketPath ?? t.uri, t.via && `via ${t.via}`].filter(Boolean).join(' ');
}

export async function withClient<T>(ctx: VerbContext, o: TargetOptions, fn: (c: AgentClient) => Promise<T>): Promise<T> {
  const target: AgentTarget = {
    ...(o.socket ? { socket: o.socket } : {}),
    ...(o.vmName ? { vmName: o.vmName } : {}),
    ...(o.libvirtUri ? { libvirtUri: o.libvirtUri } : {}),
    transport: o.transport,
  };
  return withAgent(
    target,
    (client) => {
      ctx.output.verbose(`agent: connected over ${describeTransport(client.transportInfo)}`);
      return fn(client);
    },
    // a slow agent is not a held socket: a longer --timeout also bounds the handshake
    { env: ctx.env, signal: ctx.signal, sshPool: ctx.sshPool, ...(o.timeoutMs ? { handshakeTimeoutMs: Math.max(DEFAULT_TIMEOUTS.handshakeMs, o.timeoutMs) } : {}) },
  );
}

export const call = (o: TargetOptions, ctx: VerbContext) => ({ ...(o.timeoutMs ? { timeoutMs: o.timeoutMs } : {}), signal: ctx.signal });

/** `agent ping`: one guest-ping, with the transport and the time it took. */
export const ping = async (ctx: VerbContext, flags: Record<string, unknown>): Promise<void> => {
  const o = resolveTarget(flags, ctx.env);
  const started = monotonicMs();
  const transport = await withClient(ctx, o, async (c) => {
    await c.ping(call(o, ctx));
    return c.transportInfo;
  });
  const ms = Math.round((monotonicMs() - started) * 10) / 10;
  ctx.output.result({ ok: true, transport, ms }, `the guest agent answered over ${describeTransport(transport)} (${ms} ms)`);
};

/** `agent cat`: a guest file, raw on stdout (or as text or base64 with --json). */
export const cat = async (ctx: VerbContext, guestPath: string, flags: Record<string, unknown>): Promise<void> => {
  const o = resolveTarget(flags, ctx.env);
  const { method, maxBytes } = resolveWith(AGENT_CAT_OPTIONS, flags, ctx.env);
  const data = await withClient(ctx, o, (c) => c.readFile(guestPath, { ...call(o, ctx), method, ...(maxBytes ? { maxBytes } : {}) }));
  if (ctx.output.json) {
    const text = data.toString('utf8');
    const isText = Buffer.from(text, 'utf8').equals(data);
    ctx.output.result({ ok: true, path: guestPath, bytes: data.length, encoding: isText ? 'utf8' : 'base64', data: isText ? text : data.toString('base64') });
  } else ctx.output.raw(data);
};
