import { createPinia } from 'pinia';
import { createApp } from 'vue';
import App from './App.vue';
import { router } from './router';
import './styles/tokens.css';
import './styles/base.css';

// The access token arrives once in the URL; the server has set a cookie by now, so drop it from
// the address bar (it would otherwise linger in history and screenshots).
if (new URLSearchParams(location.search).has('token')) history.replaceState(null, '', location.pathname + location.hash);

createApp(App).use(createPinia()).use(router).mount('#app');
