/** The `domain-xml` and `virt-install-args` verbs' options (see src/options/table.ts for the rules). */
import { z } from 'zod';
import { VIRT_INSTALL_DEFAULTS } from '../libvirt/virt-install.js';
import { opt } from './table.js';
import { vmNameOption } from './shared.js';

/** virt-install users write --name: it stays an alias of --vm-name in both verbs. */
const vmName = () => vmNameOption('domain name', '--vm-name, --name <name>');
const whole = (example: string) => () => z.string().regex(/^\d+$/, `must be a whole number, e.g. ${example}`).transform(Number).optional();
const text = () => z.string().min(1, 'must not be empty').optional();

/** Keys are DomainSpecInput's fields (src/libvirt/domain-xml.ts); its schema gives the defaults shown here. */
export const DOMAIN_XML_OPTIONS = {
  name: vmName(),
  disk: opt({ flag: '--disk <path>', required: true, help: 'boot disk image (qcow2), e.g. an Alpine cloud image copy', schema: () => z.string().min(1, 'must not be empty') }),
  memoryMiB: opt({ flag: '--memory <MiB>', defaultText: '512', help: 'memory in MiB', schema: whole('512') }),
  vcpus: opt({ flag: '--vcpus <n>', defaultText: '2', help: 'virtual CPUs', schema: whole('2') }),
  diskFormat: opt({ flag: '--disk-format <fmt>', defaultText: 'qcow2', help: 'qcow2 or raw', schema: text }),
  iso: opt({ flag: '--iso <path>', help: 'the cidata.iso to attach as a read-only CD-ROM (SATA on q35, IDE on pc)', schema: text }),
  network: opt({ flag: '--network <spec>', defaultText: 'network=default', help: 'network=NAME, bridge=IFACE or none', schema: text }),
  mac: opt({ flag: '--mac <addr>', defaultText: 'libvirt picks one', help: 'MAC address of the NIC', schema: text }),
  domainType: opt({ flag: '--domain-type <type>', defaultText: 'kvm', help: 'kvm, or qemu for software emulation on hosts without /dev/kvm', schema: text }),
  machine: opt({ flag: '--machine <type>', defaultText: 'q35', help: 'q35 or pc', schema: text }),
  consoleLog: opt({ flag: '--console-log <file>', help: 'serial console to this file instead of a pty', schema: text }),
  kernel: opt({ flag: '--kernel <path>', help: 'direct kernel boot: kernel image (tests)', schema: text }),
  initrd: opt({ flag: '--initrd <path>', help: 'direct kernel boot: initramfs', schema: text }),
  cmdline: opt({ flag: '--cmdline <args>', help: 'direct kernel boot: kernel command line', schema: () => z.string().optional() }),
  output: opt({ flag: '-o, --output <file>', defaultText: 'stdout', help: 'write the XML to FILE (atomically, mode 0644)', schema: text }),
};

/** Keys are VirtInstallOptions' fields (src/libvirt/virt-install.ts). */
export const VIRT_INSTALL_OPTIONS = {
  name: vmName(),
  memoryMiB: opt({ flag: '--memory <MiB>', defaultText: String(VIRT_INSTALL_DEFAULTS.memoryMiB), help: 'memory in MiB', schema: whole('512') }),
  vcpus: opt({ flag: '--vcpus <n>', defaultText: String(VIRT_INSTALL_DEFAULTS.vcpus), help: 'virtual CPUs', schema: whole('2') }),
  diskPath: opt({ flag: '--disk <path>', defaultText: VIRT_INSTALL_DEFAULTS.diskPath, help: 'boot disk', schema: text }),
  isoPath: opt({ flag: '--iso <path>', help: 'the cidata.iso, attached as a CD-ROM (preferred over --user-data)', schema: text }),
  userData: opt({ flag: '--user-data <path>', help: 'seed files for virt-install --cloud-init, when no ISO', schema: text }),
  metaData: opt({ flag: '--meta-data <path>', help: 'meta-data for --cloud-init', schema: text }),
  networkConfig: opt({ flag: '--network-config <path>', help: 'network-config for --cloud-init', schema: text }),
  network: opt({ flag: '--network <spec>', defaultText: VIRT_INSTALL_DEFAULTS.network, help: 'virt-install --network value', schema: text }),
  osVariant: opt({ flag: '--os-variant <v>', defaultText: VIRT_INSTALL_DEFAULTS.osVariant, help: 'virt-install --os-variant', schema: text }),
};
