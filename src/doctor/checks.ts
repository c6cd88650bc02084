/**
 * The checklist `qemu-kubesolo doctor` runs, in order: what the guide's troubleshooting asks, each line
 * with its fix. One check per file in ./checks/; to add one, write a `Check` there and list it here.
 */
import { agentCommandsCheck } from './checks/agent-commands.js';
import { agentCheck } from './checks/agent.js';
import { apiCertificateCheck } from './checks/api-certificate.js';
import { apiReachableCheck } from './checks/api-reachable.js';
import { apiReadyzCheck, nodeReadyCheck } from './checks/api-ready.js';
import { channelDirCheck } from './checks/channel-dir.js';
import { dedicatedChannelCheck } from './checks/dedicated-channel.js';
import { identityCheck } from './checks/identity.js';
import { isoSelinuxCheck } from './checks/iso-selinux.js';
import { kubeconfigCheck } from './checks/kubeconfig.js';
import { libvirtdCheck } from './checks/libvirtd.js';
import { socketPermissionCheck } from './checks/socket-permission.js';
import { sshHopCheck } from './checks/ssh-hop.js';
import { tlsHopCheck } from './checks/tls-hop.js';
import { transportCheck } from './checks/transport.js';
import type { Check } from './types.js';

/** The checklist, in order. */
export const CHECKS: readonly Check[] = [
  identityCheck,
  transportCheck,
  sshHopCheck,
  tlsHopCheck,
  channelDirCheck,
  dedicatedChannelCheck,
  socketPermissionCheck,
  agentCheck,
  agentCommandsCheck,
  kubeconfigCheck,
  libvirtdCheck,
  apiReachableCheck,
  apiCertificateCheck,
  apiReadyzCheck,
  nodeReadyCheck,
  isoSelinuxCheck,
];
