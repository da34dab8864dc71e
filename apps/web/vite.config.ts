import { defineConfig } from 'vite';

// A static page: `vite build` writes dist/ (index.html, the bundles, the wasm binaries and the shipped
// model and sample); `vite preview` or any static server serves it.
export default defineConfig({
  base: './',
  // the worker imports TF.js backends that load code on demand: ES module workers keep those imports
  worker: { format: 'es' },
  build: { target: 'es2022', chunkSizeWarningLimit: 4096 },
  server: { port: 5173 },
  preview: { port: 4173 },
});
