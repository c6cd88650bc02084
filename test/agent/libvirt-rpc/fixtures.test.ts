/**
 * Decoder tests on real libvirtd 9.0.0 traffic recorded by record-fixtures.ts (fixtures/libvirt/*.json):
 * the streams parse at every split point, each reply decodes with its procedure's decoder, libvirt's
 * errors map to the codes the session ended with, and our encoder matches libvirt's own client (virsh).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { libvirtErrorToQks } from '../../../src/agent/libvirt-rpc/errors.js';
import { MessageDecoder, MessageStatus, type RpcMessage } from '../../../src/agent/libvirt-rpc/framing.js';
import {
  QEMU_PROGRAM,
  QemuProc,
  REMOTE_PROGRAM,
  RemoteProc,
  agentCommandArgs,
  connectOpenArgs,
  decodeAgentCommandRet,
  decodeAuthListRet,
  decodeAuthPolkitRet,
  decodeLookupByNameRet,
  decodeRemoteError,
  encodeCall,
  lookupByNameArgs,
} from '../../../src/agent/libvirt-rpc/protocol.js';
import { parseAgentReply } from '../../../src/agent/libvirt-rpc/transport.js';
import type { Recording } from './scenarios.js';

const DIR = fileURLToPath(new URL('../../../fixtures/libvirt/', import.meta.url));
const fixtures = readdirSync(DIR)
  .filter((f) => f.endsWith('.json'))
  .map((f) => JSON.parse(readFileSync(DIR + f, 'utf8')) as Recording);
/** The error each failing session must map to (libvirt's code and message are in the fixture). */
const EXPECTED_ERROR: Record<string, string> = {
  'root-agent-not-connected': 'AGENT_NOT_CONNECTED',
  'root-file-missing': 'COMMAND_FAILED',
  'root-unknown-command': 'COMMAND_FAILED',
  'root-no-domain': 'VM_NOT_FOUND',
  'outsider-denied': 'LIBVIRT_AUTH',
};
const bytes = (chunks: string[]) => Buffer.from(chunks.join(''), 'hex');
const decodeAll = (b: Buffer) => new MessageDecoder().push(b);
const key = (m: RpcMessage) => `${m.header.program.toString(16)}:${m.header.procedure}`;

describe('recorded libvirtd traffic', () => {
  it('has the scenarios the tests rely on', () => {
    expect(fixtures.map((f) => f.scenario).sort()).toEqual(
      ['group-polkit-ping', 'outsider-denied', 'root-agent-not-connected', 'root-file-missing', 'root-file-read', 'root-info', 'root-no-domain', 'root-ping', 'root-unknown-command', 'virsh-agent-command'].sort(),
    );
  });

  for (const f of fixtures) {
    describe(f.scenario, () => {
      const sIn = bytes(f.in);
      const sOut = bytes(f.out);
      const replies = decodeAll(sIn);
      const calls = decodeAll(sOut);

      it('parses both directions whole, one reply per call, serials matching', () => {
        expect(replies.length).toBe(calls.length);
        expect(replies.map((m) => m.header.serial)).toEqual(calls.map((m) => m.header.serial));
        expect(replies.map(key)).toEqual(calls.map(key));
      });

      it('parses the replies split at every point, and chunk by chunk as the kernel delivered them', () => {
        const want = replies.map((m) => [m.header.serial, m.body.toString('hex')]);
        for (let i = 0; i <= sIn.length; i++) {
          const d = new MessageDecoder();
          const got = [...d.push(sIn.subarray(0, i)), ...d.push(sIn.subarray(i))];
          if (got.length !== want.length) expect.fail(`split at ${i}: ${got.length} messages`);
        }
        const d = new MessageDecoder();
        expect(f.in.flatMap((c) => d.push(Buffer.from(c, 'hex'))).map((m) => [m.header.serial, m.body.toString('hex')])).toEqual(want);
      });

      it('decodes each reply with its procedure, and errors to the recorded outcome', () => {
        const results: unknown[] = [];
        for (const [i, m] of replies.entries()) {
          const call = calls[i]!;
          if (m.header.status === MessageStatus.ERROR) {
            const err = libvirtErrorToQks(decodeRemoteError(m.body), { operation: 'x', domain: 'd' });
            expect(err.code).toBe(EXPECTED_ERROR[f.scenario]);
            expect(err.details.libvirtMessage).toBe(f.error!.details.libvirtMessage);
            continue;
          }
          if (call.header.program === QEMU_PROGRAM) {
            results.push(parseAgentReply('x', decodeAgentCommandRet(m.body)));
          } else if (call.header.procedure === RemoteProc.AUTH_LIST) {
            expect(decodeAuthListRet(m.body)).toEqual(f.uid === 0 ? [0] : [2]);
          } else if (call.header.procedure === RemoteProc.AUTH_POLKIT) {
            expect(decodeAuthPolkitRet(m.body)).toBe(true);
          } else if (call.header.procedure === RemoteProc.DOMAIN_LOOKUP_BY_NAME) {
            const dom = decodeLookupByNameRet(m.body);
            expect(dom.uuid).toHaveLength(16);
            expect(dom.id).toBeGreaterThan(0);
          }
        }
        if (f.scenario === 'root-file-read') {
          // results are [handle, read]; the read's return carries the kubeconfig
          const read = results[1] as { 'buf-b64': string; count: number; eof: boolean };
          expect(Buffer.from(read['buf-b64'], 'base64').toString()).toMatch(/^apiVersion: v1\n/);
          expect(read.count).toBeGreaterThan(1000);
        } else if (f.scenario === 'virsh-agent-command') {
          expect(results).toEqual([(f.results[0] as { return: unknown }).return]); // virsh prints the whole reply
        } else if (f.outcome === 'ok') {
          expect(results).toEqual(f.results);
        }
      });
    });
  }

  it("encodes calls byte for byte as libvirt's own client (virsh) does", () => {
    const v = fixtures.find((f) => f.scenario === 'virsh-agent-command')!;
    const calls = decodeAll(bytes(v.out));
    const replies = decodeAll(bytes(v.in));
    const frame = (m: RpcMessage) => {
      const raw = bytes(v.out);
      let o = 0;
      for (;;) {
        const len = raw.readUInt32BE(o);
        if (raw.readUInt32BE(o + 20) === m.header.serial) return raw.subarray(o, o + len);
        o += len;
      }
    };
    const open = calls.find((m) => m.header.procedure === RemoteProc.CONNECT_OPEN)!;
    expect(encodeCall(REMOTE_PROGRAM, RemoteProc.CONNECT_OPEN, open.header.serial, connectOpenArgs('qemu:///system'))).toEqual(frame(open));
    const lookup = calls.find((m) => m.header.procedure === RemoteProc.DOMAIN_LOOKUP_BY_NAME)!;
    expect(encodeCall(REMOTE_PROGRAM, RemoteProc.DOMAIN_LOOKUP_BY_NAME, lookup.header.serial, lookupByNameArgs('qks-rec'))).toEqual(frame(lookup));
    const dom = decodeLookupByNameRet(replies.find((m) => m.header.serial === lookup.header.serial)!.body);
    const agent = calls.find((m) => m.header.program === QEMU_PROGRAM && m.header.procedure === QemuProc.DOMAIN_AGENT_COMMAND)!;
    expect(encodeCall(QEMU_PROGRAM, QemuProc.DOMAIN_AGENT_COMMAND, agent.header.serial, agentCommandArgs(dom, '{"execute":"guest-ping"}', 5))).toEqual(frame(agent));
    const authList = calls.find((m) => m.header.procedure === RemoteProc.AUTH_LIST)!;
    expect(encodeCall(REMOTE_PROGRAM, RemoteProc.AUTH_LIST, authList.header.serial)).toEqual(frame(authList));
  });
});
