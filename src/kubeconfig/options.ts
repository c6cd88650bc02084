/**
 * The `kubeconfig` options, typed: the rows (flag, variable, default, schema) are in
 * src/options/kubeconfig.ts; this adds the checks across options and the resolution
 * (given values > environment > defaults, validated once, errors naming "--flag (VARIABLE)").
 */
import { configError, gather, parseRows, type Given, type TableOutput } from '../options/table.js';
import { KUBECONFIG_OPTIONS } from '../options/kubeconfig.js';
import { contextNameProblem } from './merge-entries.js';

export { DEFAULT_JOBS, DEFAULT_REMOTE_PATH, DEFAULT_SSH_USER, DEFAULT_WAIT_TIMEOUT_SEC } from '../options/kubeconfig.js';
export { DEFAULT_VM_NAME } from '../options/shared.js';

const HINT = 'Fix the option named above; see qemu-kubesolo kubeconfig --help. Nothing was written.';

/** The checks across options, on rows that each passed: what is wrong, by field. */
export function crossOptionProblems(o: Record<string, unknown>): { path: [string]; message: string }[] {
  const issues: { path: [string]; message: string }[] = [];
  const add = (key: string, message: string) => issues.push({ path: [key], message });
  const vmNames = o.vmNames as string[];
  const many = vmNames.length > 1;
  if (o.output !== undefined && o.outputDir !== undefined) add('output', 'give --output or --output-dir, not both');
  if (many && o.output !== undefined) add('output', 'with several VMs, use --output-dir (one file per VM)');
  if (many && o.method === 'ssh') add('method', 'ssh takes one VM (one --vm-ip); fetch several VMs with guest-agent');
  if (many && o.socket !== undefined && !(o.socket as string).includes('{vm}')) add('socket', 'with several VMs, the socket path must contain {vm}');
  if (new Set(vmNames).size !== vmNames.length) add('vmNames', 'a VM is named twice');
  if (o.method === 'ssh' && !o.vmIp) add('vmIp', 'is required with --method ssh');
  const merging = o.merge !== undefined && o.merge !== false;
  if (!merging && o.context !== undefined) add('context', 'names the merged context: use it with --merge');
  if (!merging && o.useContext) add('useContext', 'makes the merged context current: use it with --merge');
  if (many && o.context !== undefined) add('context', 'with several VMs, each is merged under its own VM name');
  const bad = typeof o.context === 'string' ? contextNameProblem(o.context) : undefined;
  if (bad) add('context', bad);
  return issues;
}

type Rows = typeof KUBECONFIG_OPTIONS;

/** The resolved, validated options of `kubeconfig` (the library's input to getKubeconfig/getKubeconfigs), inferred from the rows' parsers. */
export type KubeconfigOptions = TableOutput<Rows>;

/** What callers give: any option by its field name (strings accepted where the CLI passes text). */
export type KubeconfigInput = Given<Rows>;

/** Reads a file of VM names: one per line, blank lines and `#` comments ignored. */
export function parseVmNamesFile(text: string): string[] {
  return text
    .split('\n')
    .map((l) => l.replace(/#.*/, '').trim())
    .filter(Boolean);
}

/**
 * Given values > environment > defaults, validated. `namesFromFile` is the content of --vm-names-file
 * (read by the caller: this stays pure); with it, VM_NAME/VM_HOSTNAME/the default do not add a VM.
 * Throws CONFIG_INVALID naming every bad option by its flag and variable.
 */
export function resolveKubeconfigOptions(given: KubeconfigInput, env: NodeJS.ProcessEnv, namesFromFile?: string): KubeconfigOptions {
  const raw = gather(KUBECONFIG_OPTIONS, given, env);
  if (namesFromFile !== undefined) raw.vmNames = [...((given.vmNames as string[] | undefined) ?? []), ...parseVmNamesFile(namesFromFile)];
  // row by row with the plain parsers (no zod: bench/startup.md), then the checks across rows
  const o = parseRows(KUBECONFIG_OPTIONS, raw, HINT);
  const issues = crossOptionProblems(o);
  if (issues.length) throw configError(KUBECONFIG_OPTIONS, issues, HINT);
  return o;
}
