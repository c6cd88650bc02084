/**
 * The guest agent's replies, as zod schemas (qemu `qga/qapi-schema.json`). Types are inferred from them.
 * Unknown fields pass through: newer agents add some.
 */
import { z } from 'zod';
import { QksError } from '../errors.js';

export const AgentErrorSchema = z.object({ class: z.string(), desc: z.string() });
export type AgentErrorBody = z.infer<typeof AgentErrorSchema>;

/** Any reply: exactly one of `return` or `error`. */
export const ReplySchema = z.union([
  z.object({ return: z.unknown() }).refine((r) => 'return' in r, 'missing return'),
  z.object({ error: AgentErrorSchema }),
]);
export type Reply = z.infer<typeof ReplySchema>;

export const EmptySchema = z.object({});

export const GuestInfoSchema = z.object({
  version: z.string(),
  supported_commands: z.array(
    z.object({ name: z.string(), enabled: z.boolean(), 'success-response': z.boolean().optional() }),
  ),
});
export type GuestInfoReply = z.infer<typeof GuestInfoSchema>;

export const ExecStartSchema = z.object({ pid: z.number().int() });

export const ExecStatusSchema = z.object({
  exited: z.boolean(),
  exitcode: z.number().int().optional(),
  signal: z.number().int().optional(),
  'out-data': z.string().optional(),
  'err-data': z.string().optional(),
  'out-truncated': z.boolean().optional(),
  'err-truncated': z.boolean().optional(),
});
export type ExecStatusReply = z.infer<typeof ExecStatusSchema>;

export const FileHandleSchema = z.number().int();

export const FileReadSchema = z.object({ count: z.number().int().nonnegative(), 'buf-b64': z.string(), eof: z.boolean() });
export type FileReadReply = z.infer<typeof FileReadSchema>;

export const SyncSchema = z.number().int();

/** Validates a command's `return` value; a mismatch is a PROTOCOL_ERROR naming the command. */
export function parseReturn<S extends z.ZodType>(schema: S, command: string, value: unknown): z.infer<S> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  throw new QksError('PROTOCOL_ERROR', `unexpected reply to ${command}: ${r.error.issues.map((i) => `${i.path.join('.') || 'return'}: ${i.message}`).join('; ')}`, {
    hint: 'The peer is not behaving like qemu-ga; check what listens on the socket.',
    details: { command, reply: JSON.stringify(value)?.slice(0, 200) },
  });
}
