/** The one SSH module: pure arguments and failure classification, one runner, an owned connection pool. */
export { describeDestination, remoteCommand, sshBaseArgs, type SshArgsOptions, type SshDestination } from './args.js';
export { classifySshFailure, sshFailureKind, sshSaid, type SshFailureKind, type SshHints } from './failure.js';
export { runSsh, type RunOptions, type RunResult } from './run.js';
export { DEFAULT_SSH_TIMEOUTS, SshHost, pooledHost, processAlive, type SshOptions } from './connection.js';
export { SshPool, type PooledConnection } from './pool.js';
