import type { Shape } from '../index';
import type en from '../en/loginPage';

export default {
  subtitle: 'Connexion à un profil local',
  profile: 'Profil',
  noProfile: 'Aucun profil pour l’instant : créez-en un',
  password: 'Mot de passe',
  submit: 'Se connecter',
  newProfile: '+ Nouveau profil',
  devMode: 'Mode développement',
  devModeHint: '(connecte le profil « dev »)',
  create: {
    title: 'Nouveau profil',
    name: 'Nom',
    password: 'Mot de passe',
    repeat: 'Répéter le mot de passe',
    submit: 'Créer le profil',
    differ: 'Les deux mots de passe sont différents.',
  },
} satisfies Shape<typeof en>;
