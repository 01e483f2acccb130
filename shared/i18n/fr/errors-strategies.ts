import type { Shape } from '../index';
import type en from '../en/errors-strategies';

export default {
  strategyCheckerStoppedApp: 'Le vérificateur de stratégies est arrêté (l\'application se ferme).',
  strategyCheckerStoppedApp2: 'Le vérificateur de stratégies s\'est arrêté (l\'application se ferme).',
  strategyCheckFailed: 'La vérification de la stratégie a échoué : {error}',
  checkerWasRestartedCheck: '{message} Le vérificateur a été redémarré : vérifiez de nouveau.',
  strategyCheckerCouldNot: 'Le vérificateur de stratégies n\'a pas pu démarrer : {reason}',
  wasStoppedAristobotStrategy: '{what} et a été arrêtée (ARISTOBOT_STRATEGY_CHECK_TIMEOUT_MS) ; le vérificateur a été redémarré. Réessayez, ou simplifiez le code.',
  noStrategyProfile: 'Aucune stratégie {id} dans ce profil.',
  strategyTemplatesCannotRead: 'Les modèles de stratégie ne peuvent pas être lus depuis {templatesDir} : {reason}',
  strategyHasNoVersion: 'La stratégie n\'a pas de version {version}.',
  noTemplateTemplates: 'Aucun modèle « {id} ». Modèles : {id2}.',
  strategyNamedAlreadyExists: 'Une stratégie nommée « {name} » existe déjà.',
  strategyNamedAlreadyExists2: 'Une stratégie nommée « {candidate} » existe déjà.',
  tooManyCopiesGive: 'Trop de copies de « {name} » : donnez un nom à la copie.',
  doesNotCompile: 'Le code ne compile pas.',
  doesNotCompileAt: 'Le code ne compile pas : ligne {line}, colonne {column} : {reason}',
  doesNotCompileAtMore: 'Le code ne compile pas : ligne {line}, colonne {column} : {reason} (et {count} autre problème)|Le code ne compile pas : ligne {line}, colonne {column} : {reason} (et {count} autres problèmes)',
} satisfies Shape<typeof en>;
