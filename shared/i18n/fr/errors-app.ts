import type { Shape } from '../index';
import type en from '../en/errors-app';

export default {
  aristobot3AlreadyRunningWith: 'Aristobot3 est déjà lancé avec le dossier de données {dataDir} (processus {pid}).',
  couldNotStart: 'L\'application n\'a pas pu démarrer : {reason}',
  starting: 'L\'application est encore en cours de démarrage.',
} satisfies Shape<typeof en>;
