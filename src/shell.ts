/**
 * POSIX shell quoting, for every command line the tool prints (virt-install, semanage) or hands to a
 * remote shell over SSH: a word of safe characters stays as it is (so printed commands read like the
 * guide's); anything else is single-quoted, with `'` written as `'\''`. Safe in sh, dash, bash, ksh, zsh.
 */
export function shellQuote(word: string): string {
  if (word !== '' && /^[A-Za-z0-9_@%+=:,./-]+$/.test(word)) return word;
  return `'${word.replace(/'/g, `'\\''`)}'`;
}
