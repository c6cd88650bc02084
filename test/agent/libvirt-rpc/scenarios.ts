/**
 * The sessions recorded into fixtures/libvirt/ (by record-fixtures.ts) and what each should yield.
 * Each runs our transport against real libvirtd with a tap on the socket.
 */
import { isQksError } from '../../../src/errors.js';
import { openLibvirtTransport, type LibvirtTransport } from '../../../src/agent/libvirt-rpc/transport.js';

export const GUEST_KUBECONFIG_PATH = '/var/lib/kubesolo/pki/admin/admin.kubeconfig';

export interface Recording {
  scenario: string;
  description: string;
  uid: number;
  /** 'ok' or the QksError code the session ended with. */
  outcome: string;
  error?: { code: string; message: string; details: Record<string, unknown> };
  /** Each command's return value, in order. */
  results: unknown[];
  /** Chunks as written / as received, hex. */
  out: string[];
  in: string[];
  libvirtd?: string;
  qemuGa?: string;
}

type Step = (t: LibvirtTransport) => Promise<unknown[]>;

export interface Scenario {
  name: string;
  description: string;
  /** Which test domain: the one with agents, the one without, or a name that does not exist. */
  domain: 'vm' | 'noga' | 'absent';
  /** Run as this (test-created) user instead of root. */
  user?: string;
  steps: Step;
}

const one = (cmd: string, args?: Record<string, unknown>): Step => async (t) => [await t.execute(cmd, args, { timeoutMs: 5_000 })];

export const SCENARIOS: Scenario[] = [
  { name: 'root-ping', description: 'root: AUTH_LIST (none), CONNECT_OPEN, DOMAIN_LOOKUP_BY_NAME, guest-ping, CONNECT_CLOSE', domain: 'vm', steps: one('guest-ping') },
  { name: 'root-info', description: 'root: guest-info (a reply of a few KiB)', domain: 'vm', steps: one('guest-info') },
  {
    name: 'root-file-read',
    description: 'root: guest-file-open/read/close of the kubeconfig',
    domain: 'vm',
    steps: async (t) => {
      const h = (await t.execute('guest-file-open', { path: GUEST_KUBECONFIG_PATH, mode: 'r' })) as number;
      const r = await t.execute('guest-file-read', { handle: h, count: 65536 });
      await t.execute('guest-file-close', { handle: h });
      return [h, r];
    },
  },
  { name: 'root-file-missing', description: 'root: guest-file-open of a missing file (agent error through libvirt)', domain: 'vm', steps: one('guest-file-open', { path: '/no/such/file', mode: 'r' }) },
  { name: 'root-unknown-command', description: 'root: a command the agent does not know', domain: 'vm', steps: one('guest-no-such-command') },
  { name: 'root-no-domain', description: 'root: DOMAIN_LOOKUP_BY_NAME of a name that does not exist', domain: 'absent', steps: one('guest-ping') },
  { name: 'root-agent-not-connected', description: 'root: guest-ping to a running domain whose qemu-ga is not running', domain: 'noga', steps: one('guest-ping') },
  { name: 'group-polkit-ping', description: 'libvirt-group user: AUTH_LIST (polkit), AUTH_POLKIT, then guest-ping', domain: 'vm', user: 'qksrec', steps: one('guest-ping') },
  { name: 'outsider-denied', description: 'user outside the libvirt group: AUTH_POLKIT refused', domain: 'vm', user: 'qksrecout', steps: one('guest-ping') },
];

export async function runScenario(name: string, domain: string): Promise<Recording> {
  const s = SCENARIOS.find((x) => x.name === name);
  if (!s) throw new Error(`no scenario ${name}`);
  const rec: Recording = { scenario: s.name, description: s.description, uid: process.getuid?.() ?? -1, outcome: 'ok', results: [], out: [], in: [] };
  let t: LibvirtTransport | undefined;
  try {
    t = await openLibvirtTransport({ domain, timeoutMs: 10_000, tap: (dir, chunk) => rec[dir].push(chunk.toString('hex')) });
    rec.results = await s.steps(t);
  } catch (e) {
    if (!isQksError(e)) throw e;
    rec.outcome = e.code;
    rec.error = { code: e.code, message: e.message, details: e.details };
  } finally {
    await t?.close();
  }
  return rec;
}
