// Entry point: mounts the app with its router and languages.
import { createApp } from 'vue';
import App from './App.vue';
import { router } from './router.js';
import { i18n, setLocale } from './i18n.js';
import './style.css';

setLocale(i18n.global.locale.value);
createApp(App).use(i18n).use(router).mount('#app');
