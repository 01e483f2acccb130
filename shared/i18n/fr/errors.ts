import type { Shape } from '../index';
import type en from '../en/errors';
import ai from './errors-ai';
import api from './errors-api';
import app from './errors-app';
import backtest from './errors-backtest';
import bot from './errors-bot';
import db from './errors-db';
import exchanges from './errors-exchanges';
import heartbeat from './errors-heartbeat';
import input from './errors-input';
import kernel from './errors-kernel';
import notifications from './errors-notifications';
import profiles from './errors-profiles';
import secrets from './errors-secrets';
import stats from './errors-stats';
import strategies from './errors-strategies';
import trading from './errors-trading';
import webhooks from './errors-webhooks';

export default {
  code: {
    invalid_input: "La saisie n'est pas valide.",
    unknown_method: "Cette action n'existe pas.",
    unauthenticated: "Connectez-vous d'abord.",
    wrong_password: 'Mot de passe incorrect.',
    too_many_attempts: 'Trop de tentatives : patientez un moment puis réessayez.',
    conflict: "Ceci est en conflit avec l'état actuel.",
    not_found: 'Introuvable.',
    unavailable: 'Indisponible pour le moment.',
    secrets_unavailable: "Le coffre des secrets n'est pas disponible.",
    already_running: 'Déjà en cours.',
    exchange_auth: "L'exchange a refusé la clé d'API.",
    exchange_permission: "La clé d'API n'a pas la permission nécessaire.",
    exchange_network: "L'exchange est injoignable.",
    exchange_rate_limit: "L'exchange limite les requêtes : réessayez dans un instant.",
    exchange_down: "L'exchange est en panne ou en maintenance.",
    insufficient_funds: 'Fonds insuffisants.',
    invalid_order: "L'exchange a refusé l'ordre.",
    exchange_error: "L'exchange a répondu par une erreur.",
    cancelled: 'Annulé.',
    rate_limited: 'Trop de requêtes : patientez un moment.',
    ai_off: "L'assistant IA est désactivé : activez OpenRouter ou Ollama dans Compte.",
    ai_unreachable: "Le fournisseur d'IA est injoignable.",
    ai_auth: "Le fournisseur d'IA a refusé la clé.",
    ai_unknown_model: "Le fournisseur d'IA ne connaît pas ce modèle.",
    ai_timeout: "Le fournisseur d'IA n'a pas répondu à temps.",
    ai_rate_limit: "Le fournisseur d'IA limite les requêtes.",
    ai_provider_error: "Le fournisseur d'IA a répondu par une erreur.",
    strategy_error: 'La stratégie a échoué.',
    strategy_timeout: 'La stratégie a utilisé trop de temps CPU et a été arrêtée.',
    strategy_memory: 'La stratégie a utilisé trop de mémoire et a été arrêtée.',
    gate_closed: "La route vers le réel n'est pas terminée pour cette activation.",
    internal: "Une erreur s'est produite dans l'application.",
  },
  ai, api, app, backtest, bot, db, exchanges, heartbeat, input, kernel, notifications, profiles, secrets, stats, strategies, trading, webhooks,
  external: '{reason}',
  noToken: "Cet onglet n'a pas de jeton d'accès : ouvrez Aristobot3 avec l'adresse affichée par `npm run serve` (…/?token=…).",
  connectionLost: 'La connexion à Aristobot3 a été perdue.',
} satisfies Shape<typeof en>;
