/** The direct transport on one socket as a candidate (data: a label and an open()), for ./connect.ts and ./vm-plan.ts. */
import { connectDirect } from './direct.js';
import type { AgentCandidate } from './transport.js';

export function directCandidate(socketPath: string, label: string, channel?: string, domain?: string): AgentCandidate {
  return {
    label: `${label} ${socketPath}`,
    kind: 'direct',
    open: (o) =>
      connectDirect(socketPath, {
        handshakeTimeoutMs: o.handshakeTimeoutMs,
        ...(channel ? { channel } : {}),
        ...(domain ? { domain } : {}),
        ...(o.signal ? { signal: o.signal } : {}),
      }),
  };
}
