import { defineConfig } from 'vitest/config';

// The main tier: unit tests, property tests and integration tests against real peers on this host
// (qemu-ga, isoinfo, xorriso, bsdtar, cloud-init schema, sshd, kubectl, libvirtd). VMs: vitest.vm.config.ts.
export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    exclude: ['test/vm/**', 'node_modules/**'],
    globalSetup: ['test/global-setup.ts'],
    // generous: these machines are shared and CI's may be busy (bounds here catch hangs; speed is bench/'s job)
    testTimeout: 120_000,
    hookTimeout: 180_000,
    pool: 'forks',
  },
});
