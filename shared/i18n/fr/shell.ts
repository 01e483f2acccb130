import type { Shape } from '../index';
import type en from '../en/shell';

export default {
  starting: 'Démarrage d’Aristobot3…',
  unavailable: {
    title: 'Aristobot3 ne peut pas démarrer',
    stillStarting: 'L’application démarre encore…',
    database: 'Base de données :',
    dataFolder: 'Dossier des données :',
    retrying: 'Nouvelle tentative…',
  },
  header: {
    testnetFlag: 'TESTNET — pas de trading réel',
    heartbeatOff: 'Heartbeat arrêté',
    heartbeatDown: 'Heartbeat coupé',
    heartbeatOn: 'Heartbeat',
    incoherent: 'incohérent',
    loadingMarkets: 'Chargement {exchange} {percent} %',
    reloadMarketsTitle: 'Cliquer pour recharger les marchés',
    markets: '{count} marché|{count} marchés',
    loadMarkets: 'Charger les marchés',
    missedPing: 'PING manqué : {count}',
    disconnected: 'Déconnecté du cœur',
    debug: 'Débogage actif',
    version: 'v{version}',
  },
  bell: {
    title: '{count} notification non lue|{count} notifications non lues',
    heading: 'Notifications',
    pendingTelegram: '{count} en attente pour Telegram',
    markAllRead: 'Tout marquer comme lu',
    allowDesktop: 'Autoriser les notifications de bureau dans ce navigateur',
    empty: 'Aucune notification pour l’instant. Choisissez ce dont vous voulez être averti dans Compte → Notifications.',
    telegramSent: 'Telegram : envoyé',
    telegramPending: 'Telegram : en attente (tentative {attempts})',
    telegramPendingError: 'Telegram : en attente (tentative {attempts}) — {error}',
    telegramFailed: 'Telegram : échec — {error}',
  },
} satisfies Shape<typeof en>;
