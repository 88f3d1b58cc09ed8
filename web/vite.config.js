import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// `npm run dev` proxies the APIs to a running stack (./agora up, port 8080 by default)
const target = process.env.AGORA_URL || 'http://127.0.0.1:8080';

export default defineConfig({
  plugins: [react()],
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: false, chunkSizeWarningLimit: 1000 },
  server: {
    proxy: {
      '/api': target,
      '/graphql': target,
      '/ws': { target: target.replace(/^http/, 'ws'), ws: true },
    },
  },
});
