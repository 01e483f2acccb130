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

/**
 * Error wording. `code.<code>` is the generic sentence for each stable code of shared/errors.ts;
 * the core's specific messages are keyed under their area (see AppError's `key`).
 */
export default {
  code: {
    invalid_input: 'The input is not valid.',
    unknown_method: 'This action does not exist.',
    unauthenticated: 'Log in first.',
    wrong_password: 'Wrong password.',
    too_many_attempts: 'Too many attempts: wait a moment and try again.',
    conflict: 'This conflicts with the current state.',
    not_found: 'Not found.',
    unavailable: 'Not available right now.',
    secrets_unavailable: 'The secret store is not available.',
    already_running: 'Already running.',
    exchange_auth: 'The exchange refused the API key.',
    exchange_permission: 'The API key lacks a permission for this.',
    exchange_network: 'The exchange cannot be reached.',
    exchange_rate_limit: 'The exchange is limiting requests: try again shortly.',
    exchange_down: 'The exchange is down or in maintenance.',
    insufficient_funds: 'Not enough funds.',
    invalid_order: 'The exchange refused the order.',
    exchange_error: 'The exchange answered with an error.',
    cancelled: 'Cancelled.',
    rate_limited: 'Too many requests: wait a moment.',
    ai_off: 'The AI assistant is off: turn on OpenRouter or Ollama in Account.',
    ai_unreachable: 'The AI provider cannot be reached.',
    ai_auth: 'The AI provider refused the key.',
    ai_unknown_model: 'The AI provider does not know this model.',
    ai_timeout: 'The AI provider did not answer in time.',
    ai_rate_limit: 'The AI provider is limiting requests.',
    ai_provider_error: 'The AI provider answered with an error.',
    strategy_error: 'The strategy failed.',
    strategy_timeout: 'The strategy used too much CPU time and was stopped.',
    strategy_memory: 'The strategy used too much memory and was stopped.',
    gate_closed: 'The road to live is not complete for this activation.',
    internal: 'Something went wrong inside the app.',
  },
  ai, api, app, backtest, bot, db, exchanges, heartbeat, input, kernel, notifications, profiles, secrets, stats, strategies, trading, webhooks,
  external: '{reason}',
  noToken: 'This tab has no access token: open Aristobot3 with the address `npm run serve` printed (…/?token=…).',
  connectionLost: 'The connection to Aristobot3 was lost.',
};
