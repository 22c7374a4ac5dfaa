import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'rules/**/*.test.ts', 'src/**/*.test.ts', 'grammar/**/*.test.ts'],
    exclude: ['node_modules/**', 'dist/**'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Kernel tests create network namespaces; two workers keep the 2-core machine responsive.
    maxWorkers: 2,
    globalSetup: ['test/global-setup.ts'],
  },
});
