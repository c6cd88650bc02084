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
  error: 'must look like vX.Y.Z (a Kubesolo release tag, e.g. v1.1.0)',
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

export const apiAddressField = text().refine((s) => isIP(s) !== 0 || isDnsName(s), {
  error: 'must be an IP address or a DNS name (no scheme, port or path), e.g. 203.0.113.10 or k8s.example.com',
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
