import * as errors from '../../lambdas/shared/errors';
import * as request from '../../lambdas/shared/http/request';
import * as bearer from '../../lambdas/shared/http/bearer';
import * as catalog from '../../lambdas/shared/catalog/define';
import * as shares from '../../lambdas/shared/limits/shares';
import * as cedar from '../../lambdas/shared/policy/cedar';
import * as dynamo from '../../lambdas/shared/adapters/aws/dynamo';

export type ErrorClass = new (...args: never[]) => Error;

/** The modules that export error classes a Lambda can throw out to Step Functions or the HTTP layer. */
const MODULES = { errors, request, bearer, catalog, shares, cedar, dynamo };

/** Every exported error class, as `[module.Class, Class]` (jest keeps class names: `Class.name` is its own). */
export function exportedErrorClasses(): (readonly [string, ErrorClass])[] {
  return Object.entries(MODULES).flatMap(([module, exports]) =>
    Object.entries(exports as Record<string, unknown>)
      .filter((entry): entry is [string, ErrorClass] => typeof entry[1] === 'function' && entry[1].prototype instanceof Error)
      .map(([name, Class]) => [`${module}.${name}`, Class] as const),
  );
}
