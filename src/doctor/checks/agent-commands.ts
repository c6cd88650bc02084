/** doctor: guest-file-* and guest-exec* are enabled in qemu-ga. */
import type { Check } from '../types.js';
import { agentNeeded } from './common.js';

/** What the kubeconfig retrieval needs from the agent. */
const FILE_COMMANDS = ['guest-file-open', 'guest-file-read', 'guest-file-close'];
const EXEC_COMMANDS = ['guest-exec', 'guest-exec-status'];
const ENABLE_FIX =
  'In the guest, stop blocking them: RHEL 9.0–9.3 ships FILTER_RPC_ARGS="--allow-rpcs=..." in /etc/sysconfig/qemu-ga (add guest-file-open,guest-file-read,guest-file-close,guest-exec,guest-exec-status, ' +
  'or remove the line) and restart qemu-guest-agent; elsewhere drop them from qemu-ga --block-rpcs / -b.';

export const agentCommandsCheck: Check = {
  id: 'agent-commands',
  title: 'guest-file and guest-exec enabled',
  async run(s) {
    const skip = await agentNeeded(s);
    if (skip) return skip;
    const f = await s.info();
    if (!f.ok) return { status: 'fail', detail: `guest-info failed: ${f.error.message} [${f.error.code}]`, ...(f.error.hint ? { fix: f.error.hint } : {}) };
    const { version, commands } = f.value;
    const enabled = (n: string) => commands.some((c) => c.name === n && c.enabled);
    const off = (names: string[]) => names.filter((n) => !enabled(n));
    const fileOff = off(FILE_COMMANDS);
    const execOff = off(EXEC_COMMANDS);
    const data = { version, disabled: [...fileOff, ...execOff] };
    if (!fileOff.length && !execOff.length) return { status: 'ok', detail: `qemu-ga ${version}: guest-file-* and guest-exec* enabled`, data };
    if (!fileOff.length || !execOff.length) {
      const way = fileOff.length ? 'guest-exec of cat' : 'guest-file-read';
      return { status: 'warn', detail: `qemu-ga ${version}: ${[...fileOff, ...execOff].join(', ')} disabled; the kubeconfig can still be read by ${way}`, fix: ENABLE_FIX, data };
    }
    return { status: 'fail', detail: `qemu-ga ${version}: ${[...fileOff, ...execOff].join(', ')} disabled: no way to read the kubeconfig through the agent`, fix: `${ENABLE_FIX} Or use --method ssh.`, data };
  },
};
