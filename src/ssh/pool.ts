/**
 * SSH connections as an object the caller owns: one SshHost per destination (and ssh options), shared
 * by every VM of that host; close() ends them all. The CLI makes one per command and closes it when
 * the command ends (src/cli/main.ts); a library user does the same, or lets openAgent make a private
 * one that closes with the client. No module-level state.
 */
import { SshHost, type SshOptions } from './connection.js';
import type { SshDestination } from './args.js';

export class SshPool {
  private readonly hosts = new Map<string, SshHost>();
  private closed = false;

  /** The shared connection for a destination: made on first use, one per host whatever the number of VMs. */
  host(dest: SshDestination, opts: SshOptions = {}, env: NodeJS.ProcessEnv = process.env): SshHost {
    if (this.closed) throw new Error('SshPool used after close()');
    const key = JSON.stringify([dest, { ...opts, hints: undefined }, env.QKS_SSH_CONFIG ?? null]);
    let h = this.hosts.get(key);
    if (!h || h.isClosed) {
      h = new SshHost(dest, opts, env);
      this.hosts.set(key, h);
    }
    return h;
  }

  get size(): number {
    return this.hosts.size;
  }

  /** Ends every connection. Idempotent; the pool may not be used afterwards. */
  async close(): Promise<void> {
    this.closed = true;
    const all = [...this.hosts.values()];
    this.hosts.clear();
    await Promise.all(all.map((h) => h.close()));
  }
}
