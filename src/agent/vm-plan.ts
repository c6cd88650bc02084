/**
 * The ways to a VM named by libvirt (not a --socket), best first, for ./connect.ts, which loads this
 * file only for such a target: a `--socket` run compiles none of libvirt's paths, URIs or remote ways
 * (bench/startup.md).
 *   qemu:///system, qemu:///session the VM's channel sockets (src/libvirt/channels.ts), then libvirtd's
 *                                  RPC socket (./libvirt-rpc/transport.ts)
 *   qemu+ssh://                    the forwarded dedicated channel, then libvirtd over the same SSH
 *                                  connection, then the standard channel (src/remote/agent.ts)
 *   qemu+tls://                    libvirtd's TLS listener (src/remote/tls.ts)
 */
import { DEFAULT_LIBVIRT_URI, parseLibvirtUri, type LibvirtUri } from '../libvirt/uri.js';
import { DEDICATED_CHANNEL, STANDARD_CHANNEL } from '../libvirt/channel-names.js';
import { discoverChannelSockets } from '../libvirt/channels.js';
import { directCandidate } from './direct-candidate.js';
import { channelSocketsDenied, directCannotReachTls, noChannelSocket, noWayToAgent } from './errors.js';
import type { AgentCandidate, AgentTarget, CandidateContext, CandidatePlan } from './transport.js';

export type LibvirtCandidates = (target: AgentTarget, env: NodeJS.ProcessEnv) => AgentCandidate[];

function channelLabel(channel: string): string {
  if (channel === DEDICATED_CHANNEL) return 'dedicated channel';
  if (channel === STANDARD_CHANNEL) return 'standard channel';
  return 'socket';
}

/** The local URI's channel sockets, with why discovery found nothing as a note. */
async function localChannelPlan(vmName: string, uri: LibvirtUri, ctx: CandidateContext): Promise<CandidatePlan> {
  const found = await discoverChannelSockets(vmName, { mode: uri.mode, env: ctx.env, ...(ctx.root ? { root: ctx.root } : {}) });
  const candidates = found.sockets.map((s) => directCandidate(s.path, channelLabel(s.channel), s.channel, vmName));
  if (found.sockets.length) return { candidates };
  const error = found.denied.length ? channelSocketsDenied(vmName, found.denied) : noChannelSocket(vmName, uri.raw, found.searched);
  return { candidates, notes: [{ label: `channel sockets of ${vmName}`, error }] };
}

/** libvirtd's RPC socket for the local URI (./libvirt-rpc/transport.ts), loaded on first need. */
async function libvirtRpcCandidates(root: string | undefined): Promise<LibvirtCandidates> {
  const { libvirtAgentCandidates } = await import('./libvirt-rpc/transport.js');
  return (t, e) => libvirtAgentCandidates(t, e, root);
}

/** Every way to try for a VM by name, best first; `libvirt` replaces the local libvirtd candidates. */
export async function vmPlan(target: AgentTarget & { vmName: string }, ctx: CandidateContext, libvirt?: LibvirtCandidates): Promise<CandidatePlan> {
  const transport = target.transport ?? 'auto';
  const vmName = target.vmName;
  const uri = parseLibvirtUri(target.libvirtUri ?? ctx.env.LIBVIRT_URI ?? DEFAULT_LIBVIRT_URI);
  let plan: CandidatePlan;
  if (uri.transport === 'ssh') {
    const { remoteAgentCandidates } = await import('../remote/agent.js');
    plan = await remoteAgentCandidates({ uri, vmName, pool: ctx.ssh, transport, env: ctx.env, ...(ctx.signal ? { signal: ctx.signal } : {}) });
  } else if (uri.transport === 'tls') {
    if (transport === 'direct') {
      throw directCannotReachTls(uri.raw);
    }
    const { tlsAgentCandidate } = await import('../remote/tls.js');
    plan = { candidates: [tlsAgentCandidate(uri, vmName, ctx.env)] };
  } else {
    plan = transport !== 'libvirt' ? await localChannelPlan(vmName, uri, ctx) : { candidates: [] };
    if (transport !== 'direct') plan.candidates.push(...(libvirt ?? (await libvirtRpcCandidates(ctx.root)))(target, ctx.env));
  }
  if (!plan.candidates.length) {
    if (plan.notes?.length) throw plan.notes[0]!.error;
    throw noWayToAgent(vmName, transport, uri.raw);
  }
  return plan;
}
