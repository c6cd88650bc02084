/** doctor: may you connect to the channel sockets (owner, group, mode). */
import { constants } from 'node:fs';
import { access, readFile, stat } from 'node:fs/promises';
import { PERMISSION_HINT } from '../../agent/errors.js';
import { accessFix, parseIdFile } from '../identity.js';
import { skipped, type Check } from '../types.js';

/** `srwxrwxr-x` from a mode. */
function modeString(mode: number): string {
  const t = (mode & 0o170000) === 0o140000 ? 's' : (mode & 0o170000) === 0o040000 ? 'd' : '-';
  const rwx = (b: number) => `${b & 4 ? 'r' : '-'}${b & 2 ? 'w' : '-'}${b & 1 ? 'x' : '-'}`;
  return t + rwx((mode >> 6) & 7) + rwx((mode >> 3) & 7) + rwx(mode & 7);
}

export const socketPermissionCheck: Check = {
  id: 'socket-permission',
  title: 'socket permission',
  async run(s) {
    const sockets = await s.sockets();
    if (!sockets.length) return skipped('no channel socket found (see "channel directory")');
    const [passwd, group] = await Promise.all(['/etc/passwd', '/etc/group'].map((p) => readFile(s.at(p), 'utf8').catch(() => '')));
    const users = parseIdFile(passwd!);
    const groups = parseIdFile(group!);
    const lines: string[] = [];
    let denied: string | undefined;
    let missing: string | undefined;
    let usable = 0;
    for (const sock of sockets) {
      const label = sock.channel ? `${sock.channel}: ` : '';
      try {
        const st = await stat(sock.path);
        const owner = `${users.get(st.uid) ?? st.uid}:${groups.get(st.gid) ?? st.gid}`;
        if (!st.isSocket()) {
          lines.push(`${label}${sock.path} is not a socket (${modeString(st.mode)} ${owner})`);
          missing ??= sock.path;
          continue;
        }
        // connect() needs write permission on the socket (and search on its directories)
        await access(sock.path, constants.W_OK).then(
          () => {
            usable++;
            lines.push(`${label}${sock.path} ${modeString(st.mode)} ${owner}, you may connect`);
          },
          () => {
            denied ??= sock.path;
            lines.push(`${label}${sock.path} ${modeString(st.mode)} ${owner}, you may NOT connect`);
          },
        );
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'EACCES' || code === 'EPERM') {
          denied ??= sock.path;
          lines.push(`${label}permission denied reaching ${sock.path}`);
        } else {
          missing ??= sock.path;
          lines.push(`${label}no socket at ${sock.path} (${code})`);
        }
      }
    }
    const detail = lines.join('; ');
    if (usable) return { status: denied || missing ? 'warn' : 'ok', detail };
    if (denied) {
      const id = await s.identity();
      const fix = id.ok ? accessFix(id.value) : PERMISSION_HINT;
      return { status: 'fail', detail, fix: s.options.socket ? `${fix} For a socket of your own making, give your user access to it (owner, group and mode are shown above).` : fix, data: { denied } };
    }
    return {
      status: 'fail',
      detail,
      fix: s.options.socket ? 'The VM is not running, or --socket names the wrong path (QEMU: -chardev socket,path=...,server=on,wait=off).' : 'Start the VM; check its name.',
      data: { missing },
    };
  },
};
