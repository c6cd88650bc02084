/** What several doctor checks share. */
import { DEDICATED_CHANNEL } from '../../libvirt/channel-names.js';
import type { DoctorState } from '../state.js';
import { skipped } from '../types.js';

export const ADD_CHANNEL_FIX =
  `Add the dedicated channel to the VM (qemu-kubesolo domain-xml / virt-install-args include it): ` +
  `<channel type='unix'><source mode='bind'/><target type='virtio' name='${DEDICATED_CHANNEL}'/></channel>, ` +
  `and run the qemu-guest-agent-kubesolo service in the guest (our cloud-init does).`;

/** A check that needs the agent: skipped (pointing at "agent answering") when it does not answer. */
export const agentNeeded = (s: DoctorState) => s.agent().then((a) => (a.ok ? undefined : skipped('the agent does not answer (see "agent answering")')));
