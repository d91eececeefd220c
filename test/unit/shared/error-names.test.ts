import { exportedErrorClasses } from '../../support/error-classes';

/**
 * A Lambda bundle is minified without keeping class names, so each error states its name as a
 * string (the ASL's Retry/Catch and the failure codes match on it). A new class that forgets to
 * would silently take its parent's name; this catches it, whatever the class's constructor takes.
 */
describe('error names', () => {
  const classes = exportedErrorClasses();

  it('finds the error classes', () => {
    // The ones the ASL and the failure codes name, among them.
    expect(classes.map(([name]) => name)).toEqual(
      expect.arrayContaining(['shared/errors.AuditWriteFailed', 'shared/errors.ConnectorFailed', 'shared/errors.ModelUnavailable', 'shared/errors.InvalidWorkflowState', 'shared/http/request.PayloadTooLarge', 'shared/http/bearer.TokenRejected', 'shared/adapters/aws/dynamo.BatchReadIncomplete']),
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
