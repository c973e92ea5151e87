import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

const api = process.env.STAGELINE_API ?? 'http://127.0.0.1:4040';
// Everything the dashboard calls that is not itself: proxied to the API server in `npm run dev`.
const proxied = ['/api', '/healthz', '/readyz', '/docs', '/openapi.json'];

export default defineConfig({
  root: import.meta.dirname,
  base: '/app/',
  plugins: [react()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    sourcemap: true,
    chunkSizeWarningLimit: 1200,
  },
  server: {
    port: Number(process.env.WEB_PORT ?? 5173),
    strictPort: true,
    proxy: Object.fromEntries(proxied.map((prefix) => [prefix, { target: api, changeOrigin: false }])),
  },
});
