import { describe, expect, it } from 'vitest';
import { QEMU_READABLE_TYPES, SELINUX_ISO_TYPE, selinuxLabelCommands } from './selinux.js';

describe('SELinux label commands', () => {
  it('escape the path as a regular expression for semanage and quote both for the shell', () => {
    expect(selinuxLabelCommands("/srv/it's/cidata.iso")).toEqual([
      `semanage fcontext -a -t virt_content_t '/srv/it'\\''s/cidata\\.iso'`,
      `restorecon -v '/srv/it'\\''s/cidata.iso'`,
    ]);
  });
  it('the type we ask for is one QEMU may read', () => {
    expect(QEMU_READABLE_TYPES).toContain(SELINUX_ISO_TYPE);
  });
});
