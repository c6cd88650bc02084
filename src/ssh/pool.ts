/**
 * SSH connections as an object the caller owns: one connection per destination (and ssh options),
 * shared by every VM of that host; close() ends them all. The CLI makes one per command and closes it when
 * the command ends (src/cli/session.ts); a library user does the same, or lets openAgent make a private
 * one that closes with the client. No module-level state.
 * The pool does not make connections itself (./connection.ts pooledHost does): every command makes a
 * pool, and a `--socket` one should not load the SSH code to make it (bench/startup.md).
 */

/** What a pool holds: a connection that can end and says whether it has. */
export interface PooledConnection {
  readonly isClosed: boolean;
  close(): Promise<void>;
}

export class SshPool {
  private readonly hosts = new Map<string, PooledConnection>();
  private closed = false;

  /** The connection under `key`: made by `make` on first use, and again once the last one closed. */
  shared<T extends PooledConnection>(key: string, make: () => T): T {
    if (this.closed) throw new Error('SshPool used after close()');
    let h = this.hosts.get(key) as T | undefined;
    if (!h || h.isClosed) {
      h = make();
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
