/**
 * Field rules for the artifacts configuration, as zod schemas: each one checks one kind of value
 * (hostname, username, address...) and says in its message what a good value looks like.
 */
import { isIP, isIPv4, isIPv6 } from 'node:net';
import { z } from 'zod';
import { checkPasswordHash } from './password.js';
import { parseSshPublicKey } from './ssh-key.js';

/** Newlines, C0/C1 control characters and Unicode line separators: none may reach a YAML document or a shell line. */
export const CONTROL_CHARS = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

const NO_CONTROL = 'must not contain newlines or control characters';

/** A string without control characters (every text field starts here). */
export const text = () => z.string().refine((s) => !CONTROL_CHARS.test(s), { error: NO_CONTROL, abort: true });

const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

export const hostnameField = text().refine((s) => LABEL.test(s), {
  error: 'must be an RFC 1123 label: 1-63 characters of a-z, 0-9 and "-", not starting or ending with "-" (Kubesolo refuses upper case)',
});

/** System accounts of Alpine and common distributions that a login user must not take over. */
export const RESERVED_USERNAMES = new Set([
  'root', 'bin', 'daemon', 'adm', 'lp', 'sync', 'shutdown', 'halt', 'mail', 'news', 'uucp', 'operator', 'man',
  'postmaster', 'cron', 'ftp', 'sshd', 'at', 'squid', 'xfs', 'games', 'cyrus', 'vpopmail', 'ntp', 'smmsp',
  'guest', 'nobody', 'nogroup', 'wheel', 'qemu', 'kvm', 'chrony', 'messagebus', 'polkitd', 'sys', 'tty',
  'disk', 'kmem', 'audio', 'video', 'input', 'netdev', 'users', 'utmp', 'shadow', 'abuild', 'klogd', 'dhcp',
]);

export const usernameField = text()
  .refine((s) => /^[a-z_][a-z0-9_-]{0,31}$/.test(s), {
    error: 'must be a Linux user name: 1-32 characters of a-z, 0-9, "_" and "-", starting with a letter or "_"',
    abort: true,
  })
  .refine((s) => !RESERVED_USERNAMES.has(s), { error: 'is a reserved system account; choose another name (e.g. alpine)' });

export const passwordField = text().min(1, { error: 'must not be empty' }).max(1024, { error: 'is longer than 1024 characters' });

export const passwordHashField = text().superRefine((s, ctx) => {
  const why = checkPasswordHash(s);
  if (why) ctx.addIssue({ code: 'custom', message: why });
});

/** One public key line, normalised (single spaces). */
export const sshKeyField = z.string().transform((s, ctx) => {
  const k = parseSshPublicKey(s);
  if (typeof k === 'string') {
    ctx.addIssue({ code: 'custom', message: k });
    return z.NEVER;
  }
  if (CONTROL_CHARS.test(k.line)) {
    ctx.addIssue({ code: 'custom', message: NO_CONTROL });
    return z.NEVER;
  }
  return k.line;
});

export const versionField = text().refine((s) => /^v\d{1,4}\.\d{1,4}\.\d{1,4}$/.test(s), {
  error: 'must look like vX.Y.Z (a Kubesolo release tag, e.g. v1.1.7)',
});

export const ARCHES = ['amd64', 'arm64'] as const;
export const archField = z.enum(ARCHES, { error: 'must be amd64 or arm64' });

export const instanceIdField = text().refine((s) => /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/.test(s), {
  error: 'must be 1-128 characters of A-Z, a-z, 0-9, ".", "_" and "-", starting with a letter or digit',
});

export const ipField = text().refine((s) => isIP(s) !== 0, { error: 'must be an IPv4 or IPv6 address' });

export const cidrField = text().refine(
  (s) => {
    const m = /^([^/]+)\/(\d{1,3})$/.exec(s);
    if (!m) return false;
    const bits = Number(m[2]);
    return (isIPv4(m[1]!) && bits >= 1 && bits <= 32) || (isIPv6(m[1]!) && bits >= 1 && bits <= 128);
  },
  { error: 'must be an address with a prefix length, e.g. 192.168.122.50/24 or fd00::5/64' },
);

/** A DNS name: labels of letters, digits and "-", at most 253 characters, not all-numeric at the end. */
export function isDnsName(s: string): boolean {
  if (s.length > 253) return false;
  const labels = s.split('.');
  if (!labels.every((l) => /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/.test(l))) return false;
  return !/^\d+$/.test(labels[labels.length - 1]!);
}

/**
 * Why Kubesolo cannot put an IPv6 address into its API certificate: its --apiserver-extra-sans keeps
 * IPv4 addresses and DNS names and skips anything else with a log line (internal/core/pki/options.go),
 * so the kubeconfig's server would fail TLS verification.
 */
export const IPV6_SAN_REASON =
  "Kubesolo's --apiserver-extra-sans keeps only IPv4 addresses and DNS names (it skips IPv6 ones with a log line), so its certificate would not name it: give an IPv4 address or a DNS name that resolves to the IPv6 one";

export const apiAddressField = text()
  .refine((s) => !s.includes('%'), {
    error: `has a zone id (%...): a link-local address cannot be a certificate name. ${IPV6_SAN_REASON}`,
    abort: true,
  })
  .refine((s) => isIP(s) !== 6, { error: `is an IPv6 address. ${IPV6_SAN_REASON}`, abort: true })
  .refine((s) => isIP(s) !== 0 || isDnsName(s), {
    error: 'must be an IPv4 address or a DNS name (no scheme, port or path), e.g. 203.0.113.10 or k8s.example.com',
  });

/** Characters a URL may hold that stay inert inside a double-quoted shell word (no $, `, ", \, blanks). */
const SHELL_SAFE_URL = /^[A-Za-z0-9._~:/?#[\]@!&'()*+,;=%-]+$/;

function urlProblem(s: string, what: string, allowPath: boolean): string | undefined {
  if (!SHELL_SAFE_URL.test(s)) return `must be a URL without blanks, quotes, "$", "\\" or backquotes`;
  if (allowPath && s.startsWith('/')) return undefined;
  let u: URL;
  try {
    u = new URL(s);
  } catch {
    return `must be an http://, https:// or file:// URL${allowPath ? ' or an absolute path' : ''} (${what})`;
  }
  if (u.protocol === 'http:' || u.protocol === 'https:') return u.hostname ? undefined : 'has no host';
  if (u.protocol === 'file:') {
    if (u.hostname && u.hostname !== 'localhost') return 'file:// URLs name a path in the VM: write file:///path (no host)';
    return u.pathname.length > 1 ? undefined : 'file:// needs the absolute path of the file in the VM, e.g. file:///opt/kubesolo.tar.gz';
  }
  return `must be an http://, https:// or file:// URL, not ${u.protocol}// (${what})`;
}

/** --kubesolo-url: where the VM fetches Kubesolo's release tarball (a mirror, or a file the image holds). */
export const kubesoloUrlField = text().superRefine((s, ctx) => {
  const why = urlProblem(s, 'the kubesolo-<version>-linux-<arch>-musl.tar.gz tarball', false);
  if (why) ctx.addIssue({ code: 'custom', message: why });
});

/** --apk-repository: one line of /etc/apk/repositories (a mirror's URL, or a local repository's path). */
export const apkRepositoryField = text().superRefine((s, ctx) => {
  const why = urlProblem(s, 'e.g. https://mirror.example.com/alpine/v3.22/main', true);
  if (why) ctx.addIssue({ code: 'custom', message: why });
});

/**
 * KUBECONFIG_API_ADDRESS is shared with the kubeconfig verb, which takes `https://host:port` forms;
 * a certificate SAN is the host alone, so the variable's entries are cut down to it.
 */
export function hostOfApiAddress(raw: string): string {
  const s = raw.trim().replace(/^https:\/\//i, '').replace(/\/$/, '');
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(s);
  if (bracketed) return bracketed[1]!;
  return isIP(s) === 6 ? s : s.replace(/:\d+$/, '');
}

export const interfaceField = text().refine((s) => /^[A-Za-z0-9_.-]{1,15}$/.test(s), {
  error: 'must be a Linux interface name (1-15 characters of A-Z, a-z, 0-9, "_", "." and "-"), e.g. eth0',
});

export const pathField = text().min(1, { error: 'must not be empty' });

/** Booleans from the environment: true/false, 1/0, yes/no, on/off. Anything else stays a string and fails. */
export function parseBool(s: string): boolean | string {
  const v = s.trim().toLowerCase();
  if (['true', '1', 'yes', 'on'].includes(v)) return true;
  if (['false', '0', 'no', 'off', ''].includes(v)) return false;
  return s;
}

export const boolField = z.boolean({ error: 'must be true or false' });
