import * as z from 'zod/mini';
import { en } from 'zod/locales';

/**
 * zod/mini, as every module of Warden's own imports it. The mini build keeps a Lambda's import
 * light (no method table on each schema; only the checks a module uses are bundled), but it sets
 * neither English messages nor the memoizer that zod's classic build sets on its first schema:
 * both are set here, once, before any schema parses. An action's own module may use either build
 * (`zod` or `zod/mini`); they share this configuration.
 */
z.config({ ...en(), memoizer: z.memoizer() });

export * from 'zod/mini';
