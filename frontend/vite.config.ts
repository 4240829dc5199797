import { defineConfig } from 'vitest/config';

export default defineConfig({
  // Relative asset URLs: the Go binary serves dist/ from its root (frontend.Assets).
  base: './',
  // Preact's automatic JSX runtime, without a plugin.
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: { outDir: 'dist', emptyOutDir: true },
  test: {
    environment: 'happy-dom',
    include: ['src/**/*.test.{ts,tsx}'],
    setupFiles: ['src/test/setup.ts'],
  },
});
