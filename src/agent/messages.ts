/**
 * The guest agent's replies (qemu `qga/qapi-schema.json`), as small hand-written validators: the
 * `agent` verb's start-up loads no schema library (zod costs tens of ms). Types are inferred from
 * the validators, so each shape is written once. Unknown fields pass through: newer agents add some.
 */
import { protocolError, type AgentErrorBody } from './errors.js';

export type { AgentErrorBody };

/** A validator: the value when it fits, else a reason (path: message). */
type Check<T> = (v: unknown, path: string) => { ok: true; value: T } | { ok: false; why: string };
export type Infer<C> = C extends Check<infer T> ? T : never;

const fail = (path: string, want: string, v: unknown) => ({ ok: false as const, why: `${path || 'return'}: expected ${want}, got ${v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v}` });
const pass = <T>(value: T) => ({ ok: true as const, value });

const str: Check<string> = (v, p) => (typeof v === 'string' ? pass(v) : fail(p, 'string', v));
const bool: Check<boolean> = (v, p) => (typeof v === 'boolean' ? pass(v) : fail(p, 'boolean', v));
const int: Check<number> = (v, p) => (Number.isSafeInteger(v) ? pass(v as number) : fail(p, 'integer', v));
const nonNegInt: Check<number> = (v, p) => (Number.isSafeInteger(v) && (v as number) >= 0 ? pass(v as number) : fail(p, 'integer >= 0', v));

type Shape = Record<string, Check<unknown> | { optional: Check<unknown> }>;
type ShapeType<S extends Shape> = { [K in keyof S as S[K] extends Check<unknown> ? K : never]: S[K] extends Check<infer T> ? T : never } & {
  [K in keyof S as S[K] extends { optional: Check<unknown> } ? K : never]?: S[K] extends { optional: Check<infer T> } ? T : never;
};

const optional = <T>(c: Check<T>) => ({ optional: c });

function object<S extends Shape>(shape: S): Check<ShapeType<S>> {
  return (v, p) => {
    if (!v || typeof v !== 'object' || Array.isArray(v)) return fail(p, 'object', v);
    const o = v as Record<string, unknown>;
    for (const [k, c] of Object.entries(shape)) {
      const at = p ? `${p}.${k}` : k;
      if (typeof c === 'function') {
        const r = c(o[k], at);
        if (!r.ok) return r;
      } else if (o[k] !== undefined) {
        const r = c.optional(o[k], at);
        if (!r.ok) return r;
      }
    }
    return pass(o as ShapeType<S>);
  };
}

function array<T>(item: Check<T>): Check<T[]> {
  return (v, p) => {
    if (!Array.isArray(v)) return fail(p, 'array', v);
    for (let i = 0; i < v.length; i++) {
      const r = item(v[i], `${p}.${i}`);
      if (!r.ok) return r;
    }
    return pass(v as T[]);
  };
}

export const AgentError = object({ class: str, desc: str });

export const GuestInfo = object({
  version: str,
  supported_commands: array(object({ name: str, enabled: bool, 'success-response': optional(bool) })),
});
export type GuestInfoReply = Infer<typeof GuestInfo>;

export const ExecStart = object({ pid: int });

export const ExecStatus = object({
  exited: bool,
  exitcode: optional(int),
  signal: optional(int),
  'out-data': optional(str),
  'err-data': optional(str),
  'out-truncated': optional(bool),
  'err-truncated': optional(bool),
});
export type ExecStatusReply = Infer<typeof ExecStatus>;

export const FileHandle = int;

export const FileRead = object({ count: nonNegInt, 'buf-b64': str, eof: bool });
export type FileReadReply = Infer<typeof FileRead>;

/** Validates a command's `return` value; a mismatch is a PROTOCOL_ERROR naming the command. */
export function parseReturn<T>(check: Check<T>, command: string, value: unknown): T {
  const r = check(value, '');
  if (r.ok) return r.value;
  throw protocolError(`unexpected reply to ${command}: ${r.why}`, { command, reply: JSON.stringify(value)?.slice(0, 200) });
}

/** The `error` member of a reply when it has the agent's shape, else undefined. */
export function agentErrorBody(v: unknown): AgentErrorBody | undefined {
  const r = AgentError(v, 'error');
  return r.ok ? r.value : undefined;
}

const padding = (t: string) => (t.endsWith('==') ? 2 : t.endsWith('=') ? 1 : 0);

// RFC 4648 base64 as GLib writes it (g_base64_encode): no line breaks, padded to a multiple of 4.
// A loop, not a regex: replies reach tens of MB and a backtracking regex would not be linear there.
function isStrictBase64(t: string): boolean {
  if (t.length % 4) return false;
  const pad = padding(t);
  for (let i = 0; i < t.length - pad; i++) {
    const c = t.charCodeAt(i);
    const ok = (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 43 || c === 47;
    if (!ok) return false;
  }
  return true;
}

/**
 * Decodes base64 strictly: Node's decoder skips bad characters and stops at a cut silently, which
 * would hand the caller part of a file as if it were all of it.
 */
export function decodeBase64Strict(text: string, command: string, field: string): Buffer {
  const data = Buffer.from(text, 'base64');
  // Node's decoder skips what is not base64 and stops at '=', so it yields every byte a padded length
  // promises only when each character counted: then only its URL-safe extras ('-', '_') are left to
  // refuse. Two native searches instead of the loop (~13 us a 5 KiB reply); any doubt, the loop decides.
  if (text.length % 4 === 0 && data.length === (text.length / 4) * 3 - padding(text) && text.indexOf('-') < 0 && text.indexOf('_') < 0) return data;
  if (!isStrictBase64(text)) {
    throw protocolError(`unexpected reply to ${command}: ${field} is not complete base64 (${text.length} characters)`, { command, field, length: text.length, excerpt: text.slice(0, 40) });
  }
  return data;
}
