import type { Shape } from '../index';
import type en from '../en/errors-db';

export default {
  oldPostgresqlProcessPid: 'Un ancien processus PostgreSQL (pid {pid}) occupe le dossier de données {pgDir} et ne s\'arrête pas.',
  bundledDatabaseExistsBut: 'La base intégrée dans {pgDir} existe mais son fichier propriétaire {secretFile} est absent.',
  bundledPostgresqlDidNot: 'Le PostgreSQL intégré n\'a pas démarré dans {pgDir} : {reason}',
  bundledDatabaseRefusedOwner: 'La base intégrée dans {pgDir} a refusé le mot de passe propriétaire de {secretFile}.',
  bundledPostgresqlStartedBut: 'Le PostgreSQL intégré dans {pgDir} a démarré mais son mot de passe propriétaire n\'a pas pu être renouvelé : {reason}',
  couldNotConnectPostgresql: 'Impossible de se connecter à PostgreSQL sur {redactUrl} : {reason}',
  anotherAristobot3AlreadyUsing: 'Un autre Aristobot3 utilise déjà la base {ownerUrl} ; arrêtez-le d\'abord (une application par base).',
  appConnectedAsNot: 'L\'application est connectée en tant que {user}, et non {APP_ROLE}.',
  refusingStartDatabaseRole: 'Démarrage refusé : le rôle {APP_ROLE} pourrait contourner le cloisonnement des profils (superuser={rolsuper}, bypassrls={rolbypassrls}, propriétaire de {owned} relations).',
  logProfileFirst: 'Connectez-vous d\'abord à un profil.',
  databaseUserCannotCreate: 'L\'utilisateur de la base ne peut pas créer le rôle {APP_ROLE} (il lui faut CREATEROLE) : {reason}',
  migrationFileNameNot: 'Le nom du fichier de migration {f} n\'est pas de la forme NNNN_nom.sql',
  migrationsMustNumberedConsecutively: 'Les migrations doivent être numérotées sans trou à partir de 0001 ; trouvé {name} à la position {i}',
  databaseHasMigrationApplied: 'La base a la migration {name} appliquée, mais cette version de l\'application ne la contient pas (l\'application a-t-elle été rétrogradée ?).',
  migrationWasChangedAfter: 'La migration {name} a été modifiée après avoir été appliquée (somme {checksum}… dans la base, {checksum2}… sur le disque). Une migration publiée ne doit jamais être modifiée ; restaurez le fichier et ajoutez plutôt une nouvelle migration.',
  migrationFailed: 'La migration {name} a échoué : {reason}',
} satisfies Shape<typeof en>;
