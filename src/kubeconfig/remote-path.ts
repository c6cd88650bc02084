/**
 * The one rule for --remote-path, apart from the SSH read that sends it (./ssh.ts): the option table
 * (src/options/kubeconfig.ts) checks it on every run, and an agent read needs no SSH code loaded.
 */
/** Paths we will send: absolute, one line, no NUL. */
export function checkRemotePath(path: string): string | undefined {
  if (!path.startsWith('/')) return 'must be an absolute path';
  if (path.includes('\0') || path.includes('\n') || path.includes('\r')) return 'must not contain NUL or line breaks';
  if (path.length > 4096) return 'is too long';
  return undefined;
}
