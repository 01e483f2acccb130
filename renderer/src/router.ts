import { createRouter, createWebHashHistory, type RouteRecordRaw } from 'vue-router';

/**
 * One entry per page. The sidebar lists the routes that have `meta.nav` (the catalogue key of the
 * entry's label), in TheSidebar's order, so an entry appears only once its page exists. Hash history: works from file:// (Electron) and HTTP.
 */
export const routes: RouteRecordRaw[] = [
  { path: '/', redirect: '/account' },
  { path: '/heartbeat', component: () => import('./views/HeartbeatView.vue'), meta: { nav: 'common.nav.heartbeat', icon: '♥' } },
  { path: '/trading', component: () => import('./views/TradingView.vue'), meta: { nav: 'common.nav.trading', icon: '⇄' } },
  { path: '/webhooks', component: () => import('./views/WebhooksView.vue'), meta: { nav: 'common.nav.webhooks', icon: '⚡' } },
  { path: '/backtest', component: () => import('./views/BacktestView.vue'), meta: { nav: 'common.nav.backtest', icon: '⟲' } },
  { path: '/bot', component: () => import('./views/BotView.vue'), meta: { nav: 'common.nav.bot', icon: '⚙' } },
  { path: '/strategies', component: () => import('./views/StrategiesView.vue'), meta: { nav: 'common.nav.strategies', icon: '{}' } },
  { path: '/statistics', component: () => import('./views/StatisticsView.vue'), meta: { nav: 'common.nav.statistics', icon: '∑' } },
  { path: '/account', component: () => import('./views/AccountView.vue'), meta: { nav: 'common.nav.account', icon: '◉' } },
  { path: '/:pathMatch(.*)*', redirect: '/' },
];

export const router = createRouter({ history: createWebHashHistory(), routes });
