import { defineConfig } from 'vite';

/** The directory of this file: the client's root whatever the working directory. */
const root = decodeURIComponent(new URL('.', import.meta.url).pathname);

/** API paths the dev server forwards to a running one-map server (`npm start`). */
const API = ['/layers', '/tiles', '/ogc', '/analysis', '/events', '/maps', '/health', '/ready', '/shelters', '/risk', '/import'];
const target = process.env.ONEMAP_URL ?? 'http://127.0.0.1:3000';

export default defineConfig({
  root,
  base: '/',
  publicDir: false,
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    assetsInlineLimit: 0,
    sourcemap: false,
    // One map, one bundle: OpenLayers is most of it and every page needs it.
    chunkSizeWarningLimit: 1500,
    reportCompressedSize: true,
    // The OGC API's HTML pages load their own small entry; the server finds its hashed name in the manifest.
    manifest: true,
    rollupOptions: { input: { main: `${root}index.html`, 'ogc-page': `${root}src/ogc-page.ts` } },
  },
  server: { proxy: Object.fromEntries(API.map((p) => [p, { target, changeOrigin: false }])) },
});
