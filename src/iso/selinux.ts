/**
 * RHEL and Fedora run QEMU confined by SELinux (sVirt): a seed ISO kept outside libvirt's own image
 * directories needs the type `virt_content_t` (read-only VM content) or QEMU cannot open it.
 */
import { shellQuote } from '../shell.js';

/** The SELinux type for read-only content attached to VMs, such as a cidata.iso. */
export const SELINUX_ISO_TYPE = 'virt_content_t';

/** Escapes a path for the regular expression `semanage fcontext` takes. */
function regexEscape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * The commands that label `absolutePath` persistently (`semanage fcontext`, survives relabels) and
 * apply it now (`restorecon`). Run as root; `semanage` comes from policycoreutils-python-utils.
 */
export function selinuxLabelCommands(absolutePath: string): string[] {
  return [
    `semanage fcontext -a -t ${SELINUX_ISO_TYPE} ${shellQuote(regexEscape(absolutePath))}`,
    `restorecon -v ${shellQuote(absolutePath)}`,
  ];
}
