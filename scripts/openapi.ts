import path from 'node:path';
import { OPENAPI_ROUTES, openApiDocument } from '../lambdas/shared/http/openapi';
import { runCli, writeGenerated } from './cli';

/**
 * `npm run openapi`: `docs/openapi.json`, the document `GET /openapi.json` serves, checked in so
 * that tools and reviewers can read it without a running stack. `--check` (run by a test in
 * `npm test`) fails when the checked-in file is not what the schemas generate.
 */

export const OPENAPI_FILE = path.join(__dirname, '..', 'docs', 'openapi.json');

/** The file's text: the served document, indented, with a final newline. */
export function renderOpenApi(): string {
  return `${JSON.stringify(openApiDocument(), null, 2)}\n`;
}

if (require.main === module) {
  void runCli(
    {
      command: 'npm run openapi --',
      summary: 'Writes docs/openapi.json (what GET /openapi.json serves) from the schemas and the action catalog; with --check, only says whether it is up to date.',
      options: { check: { type: 'boolean', description: 'write nothing; exit 1 if docs/openapi.json is not what the schemas generate' } },
      examples: ['npm run openapi', 'npm run openapi -- --check'],
      exitStatus: { 1: 'with --check: docs/openapi.json is out of date' },
    },
    (values) =>
      writeGenerated({ file: OPENAPI_FILE, text: renderOpenApi(), check: values.check === true, command: 'npm run openapi', what: `${OPENAPI_ROUTES.length} routes` }),
  );
}
