/**
 * The few libvirt RPC procedures the agent transport needs, as pure encoders and decoders.
 * Sources: libvirt src/remote/remote_protocol.x, src/remote/qemu_protocol.x, src/rpc/virnetprotocol.x.
 */
import { MessageStatus, MessageType, encodeMessage, type MessageHeader } from './framing.js';
import { XdrReader, XdrWriter } from './xdr.js';

export const REMOTE_PROGRAM = 0x20008086;
export const QEMU_PROGRAM = 0x20008087;
export const PROTOCOL_VERSION = 1;

export const RemoteProc = {
  CONNECT_OPEN: 1,
  CONNECT_CLOSE: 2,
  DOMAIN_LOOKUP_BY_NAME: 23,
  AUTH_LIST: 66,
  AUTH_POLKIT: 70,
} as const;

export const QemuProc = { DOMAIN_AGENT_COMMAND: 3 } as const;

/** remote_auth_type. */
export const AuthType = { NONE: 0, SASL: 1, POLKIT: 2 } as const;

/** REMOTE_AUTH_TYPE_LIST_MAX */
const AUTH_TYPE_LIST_MAX = 20;
/** VIR_UUID_BUFLEN */
const UUID_LEN = 16;

/** remote_nonnull_domain: what DOMAIN_LOOKUP_BY_NAME returns and agent calls take. */
export interface RemoteDomain {
  name: string;
  uuid: Buffer;
  /** -1 when the domain is defined but not running. */
  id: number;
}

/** remote_error (virNetMessageError); code/domain/level are virterror.h enums. */
export interface RemoteError {
  code: number;
  domain: number;
  message: string | null;
  level: number;
  str1: string | null;
  str2: string | null;
  str3: string | null;
  int1: number;
  int2: number;
}

export function callHeader(program: number, procedure: number, serial: number): MessageHeader {
  return { program, version: PROTOCOL_VERSION, procedure, type: MessageType.CALL, serial, status: MessageStatus.OK };
}

/** A whole CALL message (length word included). */
export function encodeCall(program: number, procedure: number, serial: number, args?: XdrWriter): Buffer {
  return encodeMessage(callHeader(program, procedure, serial), args?.toBuffer());
}

// --- arguments ---------------------------------------------------------------------------------

/** remote_connect_open_args { remote_string name; unsigned int flags; } */
export function connectOpenArgs(uri: string | null, flags = 0): XdrWriter {
  return new XdrWriter().optional(uri, (w, s) => w.string(s)).uint(flags);
}

/** remote_domain_lookup_by_name_args { remote_nonnull_string name; } */
export function lookupByNameArgs(name: string): XdrWriter {
  return new XdrWriter().string(name);
}

function writeDomain(w: XdrWriter, d: RemoteDomain): XdrWriter {
  return w.string(d.name).fixedOpaque(d.uuid, UUID_LEN).int(d.id);
}

/** qemu_domain_agent_command_args { remote_nonnull_domain dom; remote_nonnull_string cmd; int timeout; unsigned int flags; } */
export function agentCommandArgs(dom: RemoteDomain, command: string, timeoutSeconds: number, flags = 0): XdrWriter {
  return writeDomain(new XdrWriter(), dom).string(command).int(timeoutSeconds).uint(flags);
}

// --- return values -----------------------------------------------------------------------------

/** remote_auth_list_ret { remote_auth_type types<REMOTE_AUTH_TYPE_LIST_MAX>; } */
export function decodeAuthListRet(body: Buffer): number[] {
  const r = new XdrReader(body);
  const types = r.array((x) => x.int(), AUTH_TYPE_LIST_MAX);
  r.end('auth list');
  return types;
}

/** remote_auth_polkit_ret { int complete; } */
export function decodeAuthPolkitRet(body: Buffer): boolean {
  const r = new XdrReader(body);
  const complete = r.int();
  r.end('polkit auth');
  return complete !== 0;
}

function readDomain(r: XdrReader): RemoteDomain {
  return { name: r.string(), uuid: r.fixedOpaque(UUID_LEN), id: r.int() };
}

/** remote_domain_lookup_by_name_ret { remote_nonnull_domain dom; } */
export function decodeLookupByNameRet(body: Buffer): RemoteDomain {
  const r = new XdrReader(body);
  const dom = readDomain(r);
  r.end('domain lookup');
  return dom;
}

/** qemu_domain_agent_command_ret { remote_string result; } — the agent's whole JSON reply. */
export function decodeAgentCommandRet(body: Buffer): string | null {
  const r = new XdrReader(body);
  const result = r.optional((x) => x.string());
  r.end('agent command');
  return result;
}

/** Empty bodies (CONNECT_OPEN, CONNECT_CLOSE replies). */
export function decodeVoidRet(body: Buffer, what: string): void {
  new XdrReader(body).end(what);
}

export function decodeRemoteError(body: Buffer): RemoteError {
  const r = new XdrReader(body);
  const str = (x: XdrReader) => x.string();
  const code = r.int();
  const domain = r.int();
  const message = r.optional(str);
  const level = r.int();
  r.optional(readDomain); // dom: unused by libvirt
  const str1 = r.optional(str);
  const str2 = r.optional(str);
  const str3 = r.optional(str);
  const int1 = r.int();
  const int2 = r.int();
  r.optional((x) => ({ name: x.string(), uuid: x.fixedOpaque(UUID_LEN) })); // net: unused
  return { code, domain, message, level, str1, str2, str3, int1, int2 };
}

/** Encodes a remote_error (for tests and the fake daemon in test/). */
export function encodeRemoteError(e: Pick<RemoteError, 'code' | 'domain' | 'message'> & Partial<RemoteError>): XdrWriter {
  const s = (w: XdrWriter, v: string) => w.string(v);
  return new XdrWriter()
    .int(e.code)
    .int(e.domain)
    .optional(e.message, s)
    .int(e.level ?? 2)
    .bool(false)
    .optional(e.str1 ?? null, s)
    .optional(e.str2 ?? null, s)
    .optional(e.str3 ?? null, s)
    .int(e.int1 ?? 0)
    .int(e.int2 ?? 0)
    .bool(false);
}
