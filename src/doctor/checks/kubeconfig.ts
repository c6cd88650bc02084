/** doctor: the kubeconfig is there in the guest. */
import { DEFAULT_REMOTE_PATH } from '../../kubeconfig/options.js';
import type { Check } from '../types.js';
import { agentNeeded } from './common.js';

export const kubeconfigCheck: Check = {
  id: 'kubeconfig',
  title: 'kubeconfig in the guest',
  async run(s) {
    const skip = await agentNeeded(s);
    if (skip) return skip;
    const path = s.options.remotePath ?? DEFAULT_REMOTE_PATH;
    const f = await s.kubeconfig();
    if (f.ok) return { status: 'ok', detail: `${path} present (${f.value.length} bytes)`, data: { path, bytes: f.value.length } };
    const e = f.error;
    if (e.code === 'GUEST_FILE_NOT_FOUND') {
      return {
        status: 'fail',
        detail: `${path} does not exist yet`,
        fix: 'Kubesolo writes it 2–3 minutes after first boot: wait (kubeconfig --wait), then check in the guest rc-service kubesolo status and /var/log/kubesolo.log, /var/log/kubesolo.err.',
        data: { path },
      };
    }
    return { status: 'fail', detail: `cannot read ${path}: ${e.message} [${e.code}]`, ...(e.hint ? { fix: e.hint } : {}), data: { path, code: e.code } };
  },
};
