/** Rows and schemas several verbs share, so the same flag means the same thing everywhere. */
import { oneOf, optional, string } from './parsers.js';
import { opt } from './table.js';

/** The VM in every verb: --vm-name, else VM_NAME, else VM_HOSTNAME (the guide's hostname), else kubesolo. */
export const VM_NAME_ENV = ['VM_NAME', 'VM_HOSTNAME'] as const;
export const DEFAULT_VM_NAME = 'kubesolo';

/** A libvirt domain name that is also safe as a file name in --output-dir. */
export const parseVmName = string(
  [(s) => s.length >= 1, 'must not be empty'],
  [(s) => s.length <= 200, 'is too long'],
  [(s) => !['/', '\0', '\n', '\r'].some((c) => s.includes(c)) && s !== '.' && s !== '..' && !s.startsWith('-'), 'must not contain "/" or line breaks, start with "-", or be . or ..'],
);

/** The first item of a comma/space list (KUBECONFIG_API_ADDRESS lists several addresses). */
export const firstOfList = (s: string): string | undefined => s.split(/[\s,]+/).find(Boolean);

export const TRANSPORTS = ['auto', 'direct', 'libvirt'] as const;

export const transportOption = () =>
  opt({
    flag: '--transport <kind>',
    default: 'auto',
    help: 'auto, direct (channel sockets) or libvirt (libvirtd socket)',
    parse: oneOf(TRANSPORTS, 'must be auto, direct or libvirt'),
  });

const nonEmpty = string([(s) => s.length >= 1, 'must not be empty']);

/** --libvirt-uri (LIBVIRT_URI); `def` undefined leaves it unset (the connect layer then uses qemu:///system). */
export const libvirtUriOption = (def?: string) =>
  opt({
    flag: '--libvirt-uri <uri>',
    env: ['LIBVIRT_URI'],
    ...(def !== undefined ? { default: def } : {}),
    defaultText: 'qemu:///system',
    help: 'libvirt connection URI',
    parse: def !== undefined ? nonEmpty : optional(nonEmpty),
  });

/** --vm-name (VM_NAME, VM_HOSTNAME; default kubesolo): the one VM of agent, doctor, domain-xml... */
export const vmNameOption = (help: string, flag = '--vm-name <name>') =>
  opt({ flag, env: VM_NAME_ENV, default: DEFAULT_VM_NAME, help, parse: parseVmName });

/**
 * With --socket the socket is the agent: the VM name then comes only from --vm-name (a VM_NAME in the
 * environment or the default must not send discovery elsewhere or mislabel the socket).
 */
export function vmNameBeside(socket: unknown, givenVmName: unknown, resolved: string): string | undefined {
  if (socket === undefined) return resolved;
  return typeof givenVmName === 'string' ? resolved : undefined;
}

