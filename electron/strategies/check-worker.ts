import { serve } from './check-serve';

/** The strategy checker's worker thread entry (checker.ts; its own entry in electron.vite.config.ts). */
serve();
