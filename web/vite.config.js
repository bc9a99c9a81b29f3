// Vite build of the edubrain web UI: one bundle served by the edubrain binary, no CDN.
import { defineConfig } from 'vite';
import vue from '@vitejs/plugin-vue';

export default defineConfig({
  plugins: [vue()],
  define: {
    // vue-i18n feature flags: Composition API only, no legacy API, no devtools in production.
    __VUE_I18N_FULL_INSTALL__: false,
    __VUE_I18N_LEGACY_API__: false,
    __INTLIFY_PROD_DEVTOOLS__: false,
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    sourcemap: false,
    chunkSizeWarningLimit: 600,
  },
  server: {
    // During development the API comes from a running `edubrain serve`.
    proxy: { '/api': process.env.EDUBRAIN_URL || 'http://127.0.0.1:8080' },
  },
});
