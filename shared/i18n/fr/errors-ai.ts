import type { Shape } from '../index';
import type en from '../en/errors-ai';

export default {
  enterOpenrouterApiKey: 'Saisissez une clé d\'API OpenRouter pour activer OpenRouter.',
  aiAssistantOffTurn: 'L\'assistant IA est désactivé. Activez-le dans Compte → Assistant IA : activez OpenRouter (avec votre clé d\'API) ou Ollama (avec son URL, par défaut http://localhost:11434), puis choisissez un modèle.',
  noOpenrouterApiKey: 'Aucune clé d\'API OpenRouter n\'est enregistrée. Saisissez-la dans Compte → Assistant IA.',
  openrouterApiKeyMissing: 'La clé d\'API OpenRouter est absente du {backend} ; saisissez-la de nouveau dans Compte → Assistant IA.',
  noModelPickedPick: 'Aucun modèle {provider} n\'est choisi. Choisissez-en un dans Compte → Assistant IA.',
  assistantTakesMostQuestions: 'L\'assistant accepte au plus {limit} questions par minute ; réessayez dans {wait} s.',
  assistantFailedUnexpectedlySee: 'L\'assistant a échoué de façon inattendue ; consultez le journal.',
  questionWasCancelled: 'La question a été annulée.',
  hadServerErrorHttp: '{label} a rencontré une erreur serveur (HTTP {status}{theirs}). Réessayez plus tard.',
  refusedRequestHttp: '{label} a refusé la requête (HTTP {status}{theirs}).',
  couldNotReach: 'Impossible de joindre {where} ({why}). Vérifiez la connexion internet.',
  didNotAnswerWithin: '{label} n\'a pas répondu dans les {timeoutMs} s (ARISTOBOT_AI_TIMEOUT_MS). Réessayez, ou choisissez un modèle plus petit.',
  answeredModelListUnexpected: '{label} a renvoyé la liste des modèles sous une forme inattendue (pas de tableau « data ») : {baseUrl} est-elle bien une API compatible OpenAI ?',
  sentMalformedStreamChunk: '{label} a envoyé un fragment de flux mal formé.',
  stoppedAnswer: '{label} a interrompu la réponse : {msg}',
  closedStreamBeforeAnswering: '{label} a fermé le flux avant de répondre.',
  answeredUnexpectedShapeNo: '{label} a répondu sous une forme inattendue (pas de choices[0].message.content).',
  couldNotReachOllama: 'Impossible de joindre {where} ({why}). Ollama est-il lancé, et l\'URL dans Compte → Assistant IA est-elle correcte ?',
  refusedKey: '{label} a refusé la clé d\'API (HTTP {status}{theirs}). Vérifiez la clé dans Compte → Assistant IA.',
  unknownModel: '{label} ne connaît pas le modèle « {model} » (HTTP {status}{theirs}). Choisissez un modèle dans la liste de Compte → Assistant IA.',
  notOpenAiCompatible: '{label} a répondu HTTP {status}{theirs} : {baseUrl} est-elle bien une API compatible OpenAI ?',
  limitingIn: '{label} limite les requêtes (HTTP 429{theirs}). Réessayez dans {wait} s.',
  limitingLater: '{label} limite les requêtes (HTTP 429{theirs}). Réessayez plus tard.',
} satisfies Shape<typeof en>;
