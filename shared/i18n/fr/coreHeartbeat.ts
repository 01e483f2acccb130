import type { Shape } from '../index';
import type en from '../en/coreHeartbeat';

export default {
  streamDisconnected: 'flux déconnecté ({reason})',
  databaseWriteFailed: 'l\'écriture en base de données a échoué : {error}',
  backfillFailed: 'le rattrapage de {symbol} a échoué : {error}',
  disconnect: {
    dropped: 'connexion perdue',
    connect_failed: 'connexion impossible',
    silent: 'aucun message depuis trop longtemps',
    rotated: 'connexion renouvelée',
    replaced: 'connexion remplacée',
    server_shutdown: 'le serveur a annoncé un arrêt',
    closed: 'fermée avec le code {code}',
  },
  rest: {
    notArray: 'Bougies Binance : un tableau était attendu',
    malformedRow: 'Bougies Binance : ligne mal formée {row}',
    wait: 'Binance demande d\'attendre {seconds} s avant la prochaine requête',
    timeout: 'L\'API REST de Binance n\'a pas répondu en {ms} ms',
    unreachable: 'API REST de Binance injoignable : {error}',
    rateLimit: 'Limite de requêtes Binance ({status}) : réessayer dans {seconds} s',
    notJson: 'L\'API REST de Binance a répondu {status} avec un corps qui n\'est pas du JSON',
    status: 'L\'API REST de Binance a répondu {status}',
    statusWhy: 'L\'API REST de Binance a répondu {status} : {error}',
  },
} satisfies Shape<typeof en>;
