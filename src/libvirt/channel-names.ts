/**
 * The guest-agent channels' names, apart from ./channels.ts (the socket discovery and ranking): the
 * agent's error messages name them on every path, a `--socket` run included, which loads no discovery.
 */

/** The channel libvirt itself connects to and keeps open. */
export const STANDARD_CHANNEL = 'org.qemu.guest_agent.0';
/** Our dedicated channel: its own socket and its own qemu-ga in the guest; libvirt never touches it. */
export const DEDICATED_CHANNEL = 'org.qemu.guest_agent.1';
/** Preference order: the dedicated channel first (nobody holds it), then the standard one. */
export const AGENT_CHANNELS = [DEDICATED_CHANNEL, STANDARD_CHANNEL] as const;
