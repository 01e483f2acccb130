import type { Shape } from '../index';
import type en from '../en/errors-api';

export default {
  unknownEvent: 'Événement inconnu : {unknown}',
  unknownMethod: 'Méthode inconnue : {method}',
  invalidInput: 'Saisie invalide pour {method} : {path} : {reason}',
  malformed: 'Saisie invalide pour {method} : requête mal formée',
  loginFirst: 'Connectez-vous d\'abord à un profil.',
  badOutput: 'Erreur interne dans {method} (la réponse ne respectait pas le contrat) ; consultez le journal.',
  internal: 'Erreur interne dans {method} ; consultez le journal pour les détails.',
  malformedMessage: 'Message mal formé : un objet JSON {"id", "method", "params"} est attendu.',
  methodNotString: 'Message mal formé : « method » doit être une chaîne.',
  transportInternal: 'Erreur interne ; consultez le journal.',
  refusedSender: 'Refusé : l\'appel ne provient pas de la fenêtre d\'Aristobot3.',
  noSession: 'Aucune session pour cette fenêtre.',
} satisfies Shape<typeof en>;
