import type { Shape } from '../index';
import type en from '../en/coreLast';

export default {
  telegram: {
    notSetUp: 'Telegram n\'est pas configuré : saisissez le jeton du bot et l\'identifiant de la discussion dans Compte → Notifications.',
    tokenMissing: 'Telegram n\'est pas configuré (ou son jeton est absent du trousseau du système ou du coffre chiffré) : saisissez à nouveau le jeton du bot et l\'identifiant de la discussion dans Compte → Notifications.',
    disconnected: 'Telegram a été déconnecté avant que ce message puisse être remis.',
  },
  keychain: {
    store: 'enregistrer un secret',
    read: 'lire un secret',
    delete: 'supprimer un secret',
  },
  checker: {
    noStart: 'La vérification de la stratégie n\'a pas pu démarrer en {seconds} s',
    tooLong: 'La vérification de la stratégie a duré plus de {seconds} s',
    outOfMemory: 'La vérification de la stratégie a manqué de mémoire (plus de {memoryMb} Mo) et a été arrêtée.',
    crashed: 'La vérification de la stratégie s\'est arrêtée de façon inattendue ({reason}).',
    exited: 'La vérification de la stratégie s\'est arrêtée de façon inattendue (son processus de travail s\'est terminé avec le code {code}).',
  },
  field: {
    value: 'valeur',
    amount: 'quantité',
    price: 'prix',
    triggerPrice: 'prix de déclenchement',
  },
  operation: {
    placed: 'passé',
    cancelled: 'annulé',
    modified: 'modifié',
    protected: 'protégé',
  },
  url: {
    exchangeBase: 'L\'URL de base de la plateforme',
  },
  tray: {
    engine: 'Moteur de trading',
    live: '{count} activation en cours|{count} activations en cours',
    none: 'Aucune activation en cours',
    logIn: 'Connectez-vous pour voir les activations',
    protection: 'Moteur arrêté : stop-loss et take-profit toujours exécutés',
    open: 'Ouvrir Aristobot3',
    quit: 'Quitter',
    tooltipOn: 'Aristobot3 — moteur activé, {live}',
    tooltipOff: 'Aristobot3 — moteur arrêté, {live}',
  },
} satisfies Shape<typeof en>;
