import { defineConfig } from 'vitest/config';

// The VM tier: real kernels under QEMU (TCG), libvirtd running a domain, a Debian guest with cloud-init.
// Slow (minutes); files run one at a time since each VM wants the machine's two cores.
export default defineConfig({
  test: {
    include: ['test/vm/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 600_000,
    hookTimeout: 900_000,
    fileParallelism: false,
    pool: 'forks',
  },
});
