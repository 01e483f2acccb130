import { createPinia } from 'pinia';
import { createApp } from 'vue';
import App from './App.vue';
import { router } from './router';
import { i18n } from './i18n';
import './styles/tokens.css';
import './styles/base.css';

// Headless: api.ts has taken the access token from the address (and dropped it from there).
createApp(App).use(createPinia()).use(router).use(i18n).mount('#app');
