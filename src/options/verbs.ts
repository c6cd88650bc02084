/**
 * Every verb's option tables, by command (for the README tables and the agreement test; the verbs
 * themselves import only their own table, so this file costs no start-up).
 */
import { AGENT_CAT_OPTIONS, AGENT_EXEC_OPTIONS, AGENT_TARGET_OPTIONS } from './agent.js';
import { ARTIFACTS_CLI_OPTIONS, ARTIFACTS_OPTIONS } from './artifacts.js';
import { DEMO_OPTIONS } from './demo.js';
import { DOCTOR_OPTIONS } from './doctor.js';
import { DOMAIN_XML_OPTIONS, VIRT_INSTALL_OPTIONS } from './domain-xml.js';
import { FAKE_AGENT_OPTIONS } from './fake-agent.js';
import { ISO_OPTIONS } from './iso.js';
import { KUBECONFIG_OPTIONS } from './kubeconfig.js';
import type { OptionTable } from './table.js';

/** Command words (as typed after qemu-kubesolo) → the tables its options come from. */
export const VERB_OPTIONS: ReadonlyArray<{ command: string[]; tables: OptionTable[] }> = [
  { command: ['artifacts'], tables: [ARTIFACTS_OPTIONS, ARTIFACTS_CLI_OPTIONS] },
  { command: ['iso'], tables: [ISO_OPTIONS] },
  { command: ['kubeconfig'], tables: [KUBECONFIG_OPTIONS] },
  { command: ['agent', 'ping'], tables: [AGENT_TARGET_OPTIONS] },
  { command: ['agent', 'info'], tables: [AGENT_TARGET_OPTIONS] },
  { command: ['agent', 'exec'], tables: [AGENT_TARGET_OPTIONS, AGENT_EXEC_OPTIONS] },
  { command: ['agent', 'cat'], tables: [AGENT_TARGET_OPTIONS, AGENT_CAT_OPTIONS] },
  { command: ['agent', 'execute'], tables: [AGENT_TARGET_OPTIONS] },
  { command: ['fake-agent'], tables: [FAKE_AGENT_OPTIONS] },
  { command: ['doctor'], tables: [DOCTOR_OPTIONS] },
  { command: ['domain-xml'], tables: [DOMAIN_XML_OPTIONS] },
  { command: ['virt-install-args'], tables: [VIRT_INSTALL_OPTIONS] },
  { command: ['demo'], tables: [DEMO_OPTIONS] },
];

/** The README's option tables: one per heading (the agent subcommands share one, with their own rows added). */
export const README_TABLES: ReadonlyArray<{ id: string; tables: OptionTable[] }> = [
  { id: 'artifacts', tables: [ARTIFACTS_OPTIONS, ARTIFACTS_CLI_OPTIONS] },
  { id: 'iso', tables: [ISO_OPTIONS] },
  { id: 'kubeconfig', tables: [KUBECONFIG_OPTIONS] },
  { id: 'agent', tables: [AGENT_TARGET_OPTIONS, AGENT_EXEC_OPTIONS, AGENT_CAT_OPTIONS] },
  { id: 'doctor', tables: [DOCTOR_OPTIONS] },
  { id: 'domain-xml', tables: [DOMAIN_XML_OPTIONS] },
  { id: 'virt-install-args', tables: [VIRT_INSTALL_OPTIONS] },
  { id: 'fake-agent', tables: [FAKE_AGENT_OPTIONS] },
  { id: 'demo', tables: [DEMO_OPTIONS] },
];
