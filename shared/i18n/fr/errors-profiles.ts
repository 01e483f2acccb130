import type { Shape } from '../index';
import type en from '../en/errors-profiles';

export default {
  developmentModeNotAvailable: 'Le mode développement n\'est pas disponible : lancez Aristobot3 avec ARISTOBOT_DEBUG=1.',
  profileNamedAlreadyExists: 'Un profil nommé « {name} » existe déjà.',
  noProfileNamed: 'Aucun profil nommé « {name} ».',
  tooManyWrongPasswords: 'Trop de mots de passe erronés pour « {name} ». Réessayez dans {wait} s.',
  tooManyWrongPasswords2: 'Trop de mots de passe erronés pour « {name} » depuis plusieurs connexions. Réessayez dans {globalWait} s.',
  wrongPassword: 'Mot de passe incorrect',
  profileNoLongerExists: 'Ce profil n\'existe plus.',
  profileHasNoSettings: 'Ce profil n\'a pas de ligne de réglages.',
  defaultBrokerMustOne: 'Le broker par défaut doit être l\'un des brokers de ce profil.',
} satisfies Shape<typeof en>;
