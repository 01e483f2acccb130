import type { Shape } from '../index';
import type en from '../en/errors-webhooks';

export default {
  webhookSecretCannotKept: 'Le secret du webhook ne peut pas être conservé : {reason}',
  webhookSecretMissingFrom: 'Le secret du webhook est absent du coffre des secrets ; régénérez-le.',
  webhookListenerDidNot: 'L\'écouteur de webhooks n\'a pas démarré : {why}.',
  startListenerFirstTunnel: 'Démarrez d\'abord l\'écouteur : le tunnel le relaie.',
  startListenerFirst: 'Démarrez d\'abord l\'écouteur.',
  noSuchBroker: 'Ce broker est introuvable.',
  ngrokAuthtokenCannotKept: 'L\'authtoken ngrok ne peut pas être conservé : {secretsMessage}',
  noAuthtoken: 'Aucun authtoken ngrok : collez le vôtre (dashboard.ngrok.com → Your Authtoken) et relancez le tunnel.',
  tunnelDidNotStart: 'Le tunnel n\'a pas démarré : {reason}. Vérifiez le réseau et l\'authtoken ; l\'écouteur continue de tourner en local.',
  protectionNotPlaced: "Le stop-loss / take-profit natif n'a pas pu être placé après l'exécution : {reason}",
} satisfies Shape<typeof en>;
