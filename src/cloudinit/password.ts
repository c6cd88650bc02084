/**
 * Password hashes for user-data. The plaintext never leaves this module: cloud-init gets a SHA-512
 * crypt hash (`$6$`), which Alpine's musl libc verifies.
 */
import { createHash, hash, randomBytes } from 'node:crypto';
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
  // a plain salt (all this project makes): the one-shot digest below; "rounds=N$salt" and the rest: unixcrypt's parser
  return /^[./0-9A-Za-z]{1,16}$/.test(salt) ? `$6$${salt}$${sha512CryptDigest(Buffer.from(password), Buffer.from(salt))}` : encrypt(password, `$6$${salt}`);
}

/** The order crypt(3) takes the 64 digest bytes in, three at a time, for its base-64 text. */
const SHA512_ORDER = [
  42, 21, 0, 1, 43, 22, 23, 2, 44, 45, 24, 3, 4, 46, 25, 26, 5, 47, 48, 27, 6, 7, 49, 28, 29, 8, 50, 51, 30, 9, 10, 52, 31, 32, 11, 53, 54, 33, 12, 13, 55, 34, 35,
  14, 56, 57, 36, 15, 16, 58, 37, 38, 17, 59, 60, 39, 18, 19, 61, 40, 41, 20, 62, 63,
];

/** `n` bytes of `digest` repeated (the spec's "P" and "S" sequences; also steps 9-10). */
const repeatTo = (digest: Buffer, n: number): Buffer => Buffer.from(Array.from({ length: n }, (_, i) => digest[i % 64]!));

/**
 * Ulrich Drepper's SHA-crypt (https://www.akkadia.org/drepper/SHA-crypt.txt), SHA-512, 5000 rounds, with
 * one-shot `crypto.hash` on prefilled buffers: unixcrypt's createHash per round cost ~15-20 ms and its
 * garbage per hash, twice an artifacts run (bench/startup.md). Pinned to openssl and unixcrypt in password.test.ts.
 */
function sha512CryptDigest(p: Buffer, s: Buffer): string {
  const sha = (...parts: Buffer[]): Buffer => hash('sha512', parts.length === 1 ? parts[0]! : Buffer.concat(parts), 'buffer');
  const b = sha(p, s, p);
  const aParts = [p, s, repeatTo(b, p.length)];
  for (let n = p.length; n > 0; n >>= 1) aParts.push(n & 1 ? b : p);
  let c = sha(...aParts);
  const dp = sha(...Array<Buffer>(p.length).fill(p));
  const ps = repeatTo(dp, p.length);
  const ds = sha(...Array<Buffer>(16 + c[0]!).fill(s));
  const ss = repeatTo(ds, s.length);
  // step 21: [C or P] [S unless i%3==0] [P unless i%7==0] [P or C]. The 2x2x2 layouts are filled once,
  // so a round writes only the last digest into its slot and hashes (JS work per round was most of the loop)
  const layouts = [0, 1].flatMap((odd) =>
    [0, 1].flatMap((withS) =>
      [0, 1].map((withP) => {
        const buf = Buffer.concat([odd ? ps : Buffer.alloc(64), ...(withS ? [ss] : []), ...(withP ? [ps] : []), odd ? Buffer.alloc(64) : ps]);
        return { buf, at: odd ? buf.length - 64 : 0 };
      }),
    ),
  );
  for (let i = 0; i < 5000; i++) {
    const l = layouts[(i & 1) * 4 + (i % 3 ? 2 : 0) + (i % 7 ? 1 : 0)]!;
    l.buf.set(c, l.at);
    c = hash('sha512', l.buf, 'buffer');
  }
  let out = '';
  for (let i = 0; i < 63; i += 3) {
    const w = c[SHA512_ORDER[i]!]! | (c[SHA512_ORDER[i + 1]!]! << 8) | (c[SHA512_ORDER[i + 2]!]! << 16);
    for (let k = 0; k < 4; k++) out += CRYPT_ALPHABET[(w >> (6 * k)) & 63];
  }
  const last = c[SHA512_ORDER[63]!]!;
  return out + CRYPT_ALPHABET[last & 63]! + CRYPT_ALPHABET[last >> 6]!;
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
