import { createRouter, createWebHashHistory, type RouteRecordRaw } from 'vue-router';

/**
 * One entry per page. The sidebar lists the routes that have `meta.nav`, in this order, so an
 * entry appears only once its page exists. Hash history: works from file:// (Electron) and HTTP.
 */
export const routes: RouteRecordRaw[] = [
  { path: '/', redirect: '/account' },
  { path: '/heartbeat', component: () => import('./views/HeartbeatView.vue'), meta: { nav: 'Heartbeat', icon: '♥' } },
  { path: '/trading', component: () => import('./views/TradingView.vue'), meta: { nav: 'Manual trading', icon: '⇄' } },
  { path: '/webhooks', component: () => import('./views/WebhooksView.vue'), meta: { nav: 'Webhooks', icon: '⚡' } },
  { path: '/backtest', component: () => import('./views/BacktestView.vue'), meta: { nav: 'Backtest', icon: '⟲' } },
  { path: '/bot', component: () => import('./views/BotView.vue'), meta: { nav: 'Trading bot', icon: '⚙' } },
  { path: '/strategies', component: () => import('./views/StrategiesView.vue'), meta: { nav: 'Strategies', icon: '{}' } },
  { path: '/statistics', component: () => import('./views/StatisticsView.vue'), meta: { nav: 'Statistics', icon: '∑' } },
  { path: '/account', component: () => import('./views/AccountView.vue'), meta: { nav: 'Account', icon: '◉' } },
  { path: '/:pathMatch(.*)*', redirect: '/' },
];

export const router = createRouter({ history: createWebHashHistory(), routes });
