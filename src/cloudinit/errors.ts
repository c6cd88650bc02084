/**
 * The artifacts verb's errors, one factory per case: templates (TEMPLATE_INVALID, each with the
 * template's name and line where known), inventories and the resolved configuration (CONFIG_INVALID,
 * every problem listed: nothing is written until all are fixed). Codes and exit statuses: src/errors.ts.
 */
import { QksError } from '../errors.js';

const firstLine = (message: string): string => message.split('\n')[0]!;

/** A template line the renderer refuses (an unknown name, a misplaced tag, ...). */
export function templateInvalid(template: string, line: number | undefined, message: string, hint?: string): QksError {
  return new QksError('TEMPLATE_INVALID', `${template}${line ? `:${line}` : ''}: ${message}`, {
    hint: hint ?? 'Fix the template (see the comments at the top of templates/user-data.template for the syntax).',
    details: { template, ...(line ? { line } : {}) },
  });
}

export function templateNotYaml(template: string, line: number, message: string): QksError {
  return new QksError('TEMPLATE_INVALID', `${template}:${line}: not valid YAML: ${firstLine(message)}`, {
    hint: 'Fix the YAML syntax of the template.',
    details: { template, line },
  });
}

export function templateWithoutHeader(template: string): QksError {
  return new QksError('TEMPLATE_INVALID', `${template}:1: a user-data template must start with the line "#cloud-config"`, {
    hint: 'Add "#cloud-config" as the very first line.',
    details: { template, line: 1 },
  });
}

export function templateTooLarge(template: string, cap: number): QksError {
  return new QksError('TEMPLATE_INVALID', `${template}: the template is larger than ${cap} bytes, the cap for a template`, {
    hint: 'Keep templates small; put large files on the VM by other means.',
    details: { template, cap },
  });
}

export function templateNotMapping(template: string, kind: string): QksError {
  return new QksError('TEMPLATE_INVALID', `${template}: the ${kind} document must be a mapping (key: value lines)`, { details: { template } });
}

/** A bug of ours, never of the input: what was rendered parses as something else. */
export function renderedDiffers(template: string, kind: string): QksError {
  return new QksError('INTERNAL', `${template}: the rendered ${kind} does not read back as the data it was made from`);
}

export function templateMissing(path: string, hint: string): QksError {
  return new QksError('TEMPLATE_INVALID', `cannot read template ${path} (ENOENT)`, { hint, details: { template: path } });
}

export function inventoryNotYaml(name: string, line: number, message: string): QksError {
  return new QksError('CONFIG_INVALID', `${name}:${line}: not valid YAML: ${firstLine(message)}`, { hint: 'Fix the inventory file.' });
}

export function inventoryUnreadable(name: string, message: string): QksError {
  return new QksError('CONFIG_INVALID', `${name}: ${firstLine(message)}`, { hint: 'Fix the inventory file.' });
}

export function inventoryTagProblems(problems: string[]): QksError {
  return new QksError('CONFIG_INVALID', problems.join('; '), { hint: 'Fix the lines named above; nothing was written.', details: { problems } });
}

export function inventoryWithoutVms(name: string): QksError {
  return new QksError('CONFIG_INVALID', `${name}: expected a non-empty list "vms:" of entries (hostname, ssh-key, ip, ...)`, {
    hint: 'See `qemu-kubesolo artifacts --help` for an inventory example.',
  });
}

export function inventoryMissing(file: string): QksError {
  return new QksError('INPUT_NOT_FOUND', `cannot read the inventory ${file} (ENOENT)`, { hint: 'Pass the path of a YAML file with a "vms:" list.' });
}

export function inventoryProblems(file: string, problems: string[]): QksError {
  return new QksError('CONFIG_INVALID', `${file}: ${problems.length} problem(s): ${problems.join('; ')}`, {
    hint: 'Fix the entries named above; nothing was written.',
    details: { problems },
  });
}

/** One VM's configuration: every value that failed, each named "--flag (VARIABLE)" or "file:line.key". */
export function configProblems(problems: string[]): QksError {
  return new QksError('CONFIG_INVALID', problems.join('; '), {
    hint: 'Fix the value named above (flags win over environment variables); nothing was written.',
    details: { problems },
  });
}

export function sshKeyFileMissing(label: string, path: string): QksError {
  return new QksError('CONFIG_INVALID', `${label}: cannot read the key file ${path} (ENOENT)`, {
    hint: 'Pass the public key itself ("ssh-ed25519 AAAA... user@host") or the path of a readable .pub file.',
  });
}

export function outputDirNotDirectory(dir: string): QksError {
  return new QksError('CONFIG_INVALID', `--output-dir (ARTIFACTS_DIR): ${dir} exists and is not a directory`, { hint: 'Choose a directory path.' });
}
