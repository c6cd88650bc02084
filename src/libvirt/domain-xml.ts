/**
 * A libvirt domain definition for a Kubesolo VM: boot disk (qcow2), the cidata CD-ROM, virtio network,
 * serial console, and both guest-agent channels — `org.qemu.guest_agent.0` (libvirt's own) and the
 * dedicated `org.qemu.guest_agent.1` this tool uses while libvirt holds the first (README.md, "Why a second guest-agent channel").
 * Pure: options in, XML text out. Every value is XML-escaped; names libvirt or a shell would choke on
 * are refused by the schema.
 */
import { z } from 'zod';
import { zodIssuesToMessage } from '../errors.js';
import { domainSpecInvalid, networkInvalid } from './errors.js';
import { DEDICATED_CHANNEL, STANDARD_CHANNEL } from './channel-names.js';
import { VIRT_INSTALL_DEFAULTS } from './virt-install.js';

/**
 * libvirt refuses '/' in names (it becomes a file name) and we refuse control characters and
 * surrounding blanks (they end up in socket paths, logs and shells); other characters are escaped.
 */
export const VmNameSchema = z
  .string()
  .min(1, 'must not be empty')
  .max(64, 'must be at most 64 characters')
  .refine((s) => !/[/\\\u0000-\u001f\u007f]/.test(s), 'must not contain "/", "\\" or control characters')
  .refine((s) => s.trim() === s, 'must not start or end with blanks')
  .refine((s) => !s.startsWith('.') && !s.startsWith('-'), 'must not start with "." or "-"');

const AbsolutePath = z
  .string()
  .min(1)
  .refine((s) => s.startsWith('/'), 'must be an absolute path')
  .refine((s) => !/[\u0000-\u001f\u007f]/.test(s), 'must not contain control characters');

/** `network=NAME`, `bridge=IFACE` or `none`, as virt-install writes it. */
export const NetworkSchema = z.union([
  z.object({ type: z.literal('network'), source: z.string().min(1) }),
  z.object({ type: z.literal('bridge'), source: z.string().regex(/^[A-Za-z0-9_.:-]{1,15}$/, 'must be a network interface name') }),
  z.object({ type: z.literal('none') }),
]);
export type Network = z.infer<typeof NetworkSchema>;

/** Parses `network=default`, `bridge=br0`, `none` (the --network flag). */
export function parseNetwork(raw: string): Network {
  if (raw === 'none') return { type: 'none' };
  const m = /^(network|bridge)=(.+)$/.exec(raw);
  if (!m) {
    throw networkInvalid(raw);
  }
  return { type: m[1] as 'network' | 'bridge', source: m[2]! };
}

export const DomainSpecSchema = z.object({
  name: VmNameSchema,
  /** MiB; the guide's 512. */
  memoryMiB: z.number().int().min(128).max(4 * 1024 * 1024).default(512),
  vcpus: z.number().int().min(1).max(512).default(2),
  /** The boot disk (an Alpine cloud image, qcow2). */
  disk: AbsolutePath,
  diskFormat: z.enum(['qcow2', 'raw']).default('qcow2'),
  /** The cidata ISO, attached read-only as a CD-ROM. */
  iso: AbsolutePath.optional(),
  network: NetworkSchema.default({ type: 'network', source: 'default' }),
  /** `mac` for the NIC; libvirt picks one when absent. */
  mac: z.string().regex(/^([0-9a-fA-F]{2}:){5}[0-9a-fA-F]{2}$/, 'must be a MAC address like 52:54:00:12:34:56').optional(),
  /** `kvm` needs /dev/kvm; `qemu` is software emulation (TCG) for hosts without it. */
  domainType: z.enum(['kvm', 'qemu']).default('kvm'),
  /** q35 puts the CD-ROM on SATA; pc (i440fx) on IDE. */
  machine: z.enum(['q35', 'pc']).default('q35'),
  /** Agent channels, libvirt places each socket (`<source mode='bind'/>`). */
  channels: z.array(z.string().regex(/^[A-Za-z0-9_.-]+$/, 'must be a virtio-serial port name')).default([STANDARD_CHANNEL, DEDICATED_CHANNEL]),
  /** Serial console to a file instead of a pty (useful where nobody attaches a console). */
  consoleLog: AbsolutePath.optional(),
  /** Direct kernel boot (tests boot an initramfs this way). */
  kernel: AbsolutePath.optional(),
  initrd: AbsolutePath.optional(),
  cmdline: z.string().refine((s) => !/[\u0000-\u001f\u007f]/.test(s), 'must not contain control characters').optional(),
});
export type DomainSpecInput = z.input<typeof DomainSpecSchema>;
export type DomainSpec = z.output<typeof DomainSpecSchema>;

/** Flag names for messages (the CLI's spelling). */
export const DOMAIN_FIELD_FLAGS: Record<string, string> = {
  name: '--vm-name (VM_NAME, VM_HOSTNAME)',
  memoryMiB: '--memory',
  vcpus: '--vcpus',
  disk: '--disk',
  diskFormat: '--disk-format',
  iso: '--iso',
  network: '--network',
  mac: '--mac',
  domainType: '--domain-type',
  machine: '--machine',
  channels: '--channel',
  consoleLog: '--console-log',
  kernel: '--kernel',
  initrd: '--initrd',
  cmdline: '--cmdline',
};

/** `fieldNames`: how errors name each field (the CLI passes its option table's names). */
export function parseDomainSpec(input: DomainSpecInput, fieldNames: Record<string, string> = DOMAIN_FIELD_FLAGS): DomainSpec {
  const r = DomainSpecSchema.safeParse(input);
  if (!r.success) {
    throw domainSpecInvalid(zodIssuesToMessage(r.error.issues, fieldNames));
  }
  return r.data;
}

/** Escapes text for XML content and attribute values (either quote style). */
export function xmlEscape(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!);
}

/** The domain XML (`virsh define FILE`-ready). Validates its input first. */
export function domainXml(input: DomainSpecInput): string {
  const s = parseDomainSpec(input);
  const e = xmlEscape;
  const lines: string[] = [];
  const add = (indent: number, text: string) => lines.push('  '.repeat(indent) + text);

  add(0, `<domain type='${s.domainType}'>`);
  add(1, `<name>${e(s.name)}</name>`);
  add(1, `<memory unit='MiB'>${s.memoryMiB}</memory>`);
  add(1, `<vcpu>${s.vcpus}</vcpu>`);
  add(1, '<os>');
  add(2, `<type arch='x86_64' machine='${s.machine}'>hvm</type>`);
  if (s.kernel) add(2, `<kernel>${e(s.kernel)}</kernel>`);
  if (s.initrd) add(2, `<initrd>${e(s.initrd)}</initrd>`);
  if (s.cmdline !== undefined) add(2, `<cmdline>${e(s.cmdline)}</cmdline>`);
  if (!s.kernel) add(2, `<boot dev='hd'/>`);
  add(1, '</os>');
  add(1, '<features>');
  add(2, '<acpi/>');
  add(2, '<apic/>');
  add(1, '</features>');
  // KVM can pass the host CPU through; TCG emulates its default model
  if (s.domainType === 'kvm') add(1, `<cpu mode='host-passthrough'/>`);
  add(1, `<clock offset='utc'/>`);
  add(1, '<on_poweroff>destroy</on_poweroff>');
  add(1, '<on_reboot>restart</on_reboot>');
  add(1, '<on_crash>destroy</on_crash>');
  add(1, '<devices>');

  // libvirt's XML has no size for a file disk: the image's own size is the disk's
  add(2, `<!-- boot disk: give it ${VIRT_INSTALL_DEFAULTS.diskSizeGiB} GiB before the first boot (qemu-img resize DISK ${VIRT_INSTALL_DEFAULTS.diskSizeGiB}G); growpart fills it -->`);
  add(2, `<disk type='file' device='disk'>`);
  add(3, `<driver name='qemu' type='${s.diskFormat}'/>`);
  add(3, `<source file='${e(s.disk)}'/>`);
  add(3, `<target dev='vda' bus='virtio'/>`);
  add(2, '</disk>');

  if (s.iso) {
    const [dev, bus] = s.machine === 'q35' ? ['sda', 'sata'] : ['hdc', 'ide'];
    add(2, `<disk type='file' device='cdrom'>`);
    add(3, `<driver name='qemu' type='raw'/>`);
    add(3, `<source file='${e(s.iso)}'/>`);
    add(3, `<target dev='${dev}' bus='${bus}'/>`);
    add(3, '<readonly/>');
    add(2, '</disk>');
  }

  if (s.network.type !== 'none') {
    add(2, `<interface type='${s.network.type}'>`);
    if (s.mac) add(3, `<mac address='${s.mac.toLowerCase()}'/>`);
    add(3, `<source ${s.network.type}='${e(s.network.source)}'/>`);
    add(3, `<model type='virtio'/>`);
    add(2, '</interface>');
  }

  if (s.consoleLog) {
    add(2, `<serial type='file'>`);
    add(3, `<source path='${e(s.consoleLog)}'/>`);
    add(3, `<target port='0'/>`);
    add(2, '</serial>');
  } else {
    add(2, `<serial type='pty'>`);
    add(3, `<target port='0'/>`);
    add(2, '</serial>');
    add(2, `<console type='pty'>`);
    add(3, `<target type='serial' port='0'/>`);
    add(2, '</console>');
  }

  for (const name of s.channels) {
    add(2, `<channel type='unix'>`);
    add(3, `<source mode='bind'/>`);
    add(3, `<target type='virtio' name='${e(name)}'/>`);
    add(2, '</channel>');
  }

  add(2, `<rng model='virtio'>`);
  add(3, `<backend model='random'>/dev/urandom</backend>`);
  add(2, '</rng>');
  add(2, `<memballoon model='virtio'/>`);
  add(1, '</devices>');
  add(0, '</domain>');
  return lines.join('\n') + '\n';
}
