import { defineConfig } from 'vite';

// Served under /vue/ by `cargo xtask demo` / the e2e tests; change `base` for your own hosting.
export default defineConfig({
  base: '/vue/',
  // One Vue for the app and genesys-auth/vue, also when the package is a linked folder.
  resolve: { dedupe: ['vue'] },
  build: { outDir: 'dist', emptyOutDir: true },
});
