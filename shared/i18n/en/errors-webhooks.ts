/** The core's webhooks errors (keys `errors.webhooks.*`, raised with AppError; the French side is fr/errors-webhooks.ts). */
export default {
  webhookSecretCannotKept: 'The webhook secret cannot be kept: {reason}',
  webhookSecretMissingFrom: 'The webhook secret is missing from the secret store; regenerate it.',
  webhookListenerDidNot: 'The webhook listener did not start: {why}.',
  startListenerFirstTunnel: 'Start the listener first: the tunnel forwards to it.',
  startListenerFirst: 'Start the listener first.',
  noSuchBroker: 'No such broker.',
  ngrokAuthtokenCannotKept: 'The ngrok authtoken cannot be kept: {secretsMessage}',
  noAuthtoken: 'No ngrok authtoken: paste yours (dashboard.ngrok.com → Your Authtoken) and start the tunnel again.',
  tunnelDidNotStart: 'The tunnel did not start: {reason}. Check the network and the authtoken; the listener keeps running locally.',
  protectionNotPlaced: 'The native stop-loss / take-profit could not be placed after the fill: {reason}',
};
