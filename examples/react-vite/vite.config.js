import { defineConfig } from 'vite';

// Served under /react/ by `cargo xtask demo` / the e2e tests; change `base` for your own hosting.
export default defineConfig({
  base: '/react/',
  build: { outDir: 'dist', emptyOutDir: true },
});
