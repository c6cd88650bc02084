/**
 * Who runs the tool and what that lets it open (README.md, "Permissions"): the channel sockets belong to the qemu user
 * (libvirt-qemu on Debian, qemu on RHEL), so root or that group opens them; the `libvirt` group opens
 * libvirtd's own socket only — the agent is then reached through libvirtd (--transport libvirt).
 * Pure: the passwd and group files are passed in as text.
 */

export interface Identity {
  uid: number;
  user: string;
  /** Names of the process's groups (primary and supplementary). */
  groups: string[];
  root: boolean;
  /** The qemu group the process is in (libvirt-qemu or qemu), if any. */
  qemuGroup?: string;
  libvirtGroup: boolean;
  /** The qemu group this host has, to name in fixes. */
  hostQemuGroup?: string;
}

export const QEMU_GROUPS = ['libvirt-qemu', 'qemu'] as const;

/** name → id entries of an /etc/passwd or /etc/group file. */
export function parseIdFile(text: string): Map<number, string> {
  const m = new Map<number, string>();
  for (const line of text.split('\n')) {
    const f = line.split(':');
    if (f.length >= 3 && f[0] && /^\d+$/.test(f[2]!)) m.set(Number(f[2]), f[0]);
  }
  return m;
}

export function identityOf(o: { uid: number; gids: number[]; passwd: string; group: string }): Identity {
  const users = parseIdFile(o.passwd);
  const groupsById = parseIdFile(o.group);
  const groups = [...new Set(o.gids.map((g) => groupsById.get(g) ?? String(g)))];
  const hostGroups = new Set(groupsById.values());
  const qemuGroup = QEMU_GROUPS.find((g) => groups.includes(g));
  const hostQemuGroup = QEMU_GROUPS.find((g) => hostGroups.has(g));
  return {
    uid: o.uid,
    user: users.get(o.uid) ?? `uid ${o.uid}`,
    groups,
    root: o.uid === 0,
    ...(qemuGroup ? { qemuGroup } : {}),
    libvirtGroup: groups.includes('libvirt'),
    ...(hostQemuGroup ? { hostQemuGroup } : {}),
  };
}

/** The fix for someone who may not open the channel sockets. */
export function accessFix(id: Identity): string {
  const g = id.hostQemuGroup ?? 'libvirt-qemu';
  return (
    `Run as root (sudo qemu-kubesolo ...), or add the user to the ${g} group (usermod -aG ${g} ${id.user}; log in again). ` +
    (id.libvirtGroup
      ? 'As a member of the libvirt group you can also go through libvirtd: --transport libvirt.'
      : 'Members of the libvirt group can go through libvirtd instead (--transport libvirt).')
  );
}
