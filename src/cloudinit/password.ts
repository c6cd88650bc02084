/**
 * Password hashes for user-data. The plaintext never leaves this module: cloud-init gets a SHA-512
 * crypt hash (`$6$`), which Alpine's musl libc verifies.
 */
import { createHash, randomBytes } from 'node:crypto';
import { encrypt } from 'unixcrypt';

/** The alphabet of crypt(3) salts. */
const CRYPT_ALPHABET = './0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const SALT_LENGTH = 16;

function toCryptChars(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < SALT_LENGTH; i++) s += CRYPT_ALPHABET[bytes[i]! & 63];
  return s;
}

/** A fresh random salt, or one derived from `seed` when reproducible output is wanted (goldens, SOURCE_DATE_EPOCH). */
export function makeSalt(seed?: string): string {
  const bytes = seed === undefined ? randomBytes(SALT_LENGTH) : createHash('sha256').update(`qemu-kubesolo salt\0${seed}`).digest();
  return toCryptChars(bytes);
}

/** SHA-512 crypt of `password` with `salt` (default rounds, 5000, as `openssl passwd -6` and mkpasswd). */
export function sha512Crypt(password: string, salt: string = makeSalt()): string {
  return encrypt(password, `$6$${salt}`);
}

/**
 * Crypt hashes that Alpine's musl crypt() verifies and that are strong enough to hand out: SHA-512,
 * SHA-256 and bcrypt. MD5 (`$1$`) is too weak; yescrypt (`$y$`, Debian's default) musl cannot verify.
 */
const HASH_RE = /^(?:\$6\$(?:rounds=\d{4,9}\$)?[./0-9A-Za-z]{1,16}\$[./0-9A-Za-z]{86}|\$5\$(?:rounds=\d{4,9}\$)?[./0-9A-Za-z]{1,16}\$[./0-9A-Za-z]{43}|\$2[aby]\$\d\d\$[./0-9A-Za-z]{53})$/;

/** Why `hash` cannot be used as a password hash, or undefined when it can. */
export function checkPasswordHash(hash: string): string | undefined {
  if (HASH_RE.test(hash)) return undefined;
  if (hash.startsWith('$y$')) return 'is a yescrypt hash, which Alpine (musl) cannot verify: make one with `openssl passwd -6`';
  if (hash.startsWith('$1$')) return 'is an MD5 crypt hash, too weak: make one with `openssl passwd -6`';
  return 'is not a crypt hash ($6$..., $5$... or $2b$...): make one with `openssl passwd -6`';
}
