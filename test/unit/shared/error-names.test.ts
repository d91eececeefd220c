import * as errors from '../../../lambdas/shared/errors';
import * as request from '../../../lambdas/shared/http/request';
import * as bearer from '../../../lambdas/shared/http/bearer';
import * as catalog from '../../../lambdas/shared/catalog/define';
import * as shares from '../../../lambdas/shared/limits/shares';
import * as cedar from '../../../lambdas/shared/policy/cedar';
import * as dynamo from '../../../lambdas/shared/adapters/aws/dynamo';

type ErrorClass = new (...args: never[]) => Error;

/** Every error class a module exports (jest keeps class names: here `X.name` is the class's own). */
function errorClasses(module: Record<string, unknown>): [string, ErrorClass][] {
  return Object.entries(module).filter((entry): entry is [string, ErrorClass] => {
    const value = entry[1];
    return typeof value === 'function' && value.prototype instanceof Error;
  });
}

const MODULES = { errors, request, bearer, catalog, shares, cedar, dynamo };

/**
 * A Lambda bundle is minified without keeping class names, so each error states its name as a
 * string (the ASL's Retry/Catch and the failure codes match on it). A new class that forgets to
 * would silently take its parent's name; this catches it, whatever the class's constructor takes.
 */
describe('error names', () => {
  const classes = Object.entries(MODULES).flatMap(([module, exports]) => errorClasses(exports).map(([name, Class]) => [`${module}.${name}`, Class] as const));

  it('finds the error classes', () => {
    // The ones the ASL and the failure codes name, among them.
    expect(classes.map(([name]) => name)).toEqual(
      expect.arrayContaining(['errors.AuditWriteFailed', 'errors.ConnectorFailed', 'errors.ModelUnavailable', 'errors.InvalidWorkflowState', 'request.PayloadTooLarge', 'bearer.TokenRejected']),
    );
    expect(classes.length).toBeGreaterThanOrEqual(20);
  });

  it.each(classes)('%s states its own name', (_where, Class) => {
    const Construct = Class as unknown as new (...args: unknown[]) => Error;
    // Any arguments: the name never depends on them.
    const error = new Construct('invalid', 'a message');
    expect(error.name).toBe(Class.name);
    expect(Object.prototype.hasOwnProperty.call(error, 'name')).toBe(true);
  });
});
