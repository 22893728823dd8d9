import { defineConfig } from 'vite';

// Served under /react/ by `cargo xtask demo` / the e2e tests; change `base` for your own hosting.
export default defineConfig({
  base: '/react/',
  // One React for the app and genesys-auth/react, also when the package is a linked folder.
  resolve: { dedupe: ['react', 'react-dom'] },
  build: { outDir: 'dist', emptyOutDir: true },
});
