import { parseRolesClaim, principalFromClaims } from '../../../lambdas/shared/http/identity';
import { problemFromError } from '../../../lambdas/shared/http/problem';
import { Conflict } from '../../../lambdas/shared/errors';
import { logger } from '../../../lambdas/shared/observability';
import { captureOutput } from '../../support/capture-output';

describe('parseRolesClaim', () => {
  it.each([
    // A JSON array claim: one role per element.
    [['a', 'b'], ['a', 'b']],
    // API Gateway's HTTP API JWT authorizer hands an array claim over as `[a b]`.
    ['[a b]', ['a', 'b']],
    ['[support-agent]', ['support-agent']],
    ['[]', []],
    // A string claim is one role.
    ['support-agent', ['support-agent']],
    [undefined, []],
    [42, []],
  ])('%j → %j', (claim, roles) => {
    expect(parseRolesClaim(claim)).toEqual({ roles, ignored: 0 });
  });

  // Red team finding 6: each of these granted every part of the string.
  it.each([
    ['support-agent,auditor', []],
    ['a b', []],
    ['"auditor"', []],
    // An array element (a Cognito group name may hold commas and quotes) is one value too.
    [['support-agent,auditor'], []],
    [['"auditor"', 'support-agent'], ['support-agent']],
    ['[support-agent,auditor]', []],
    ['["auditor"]', []],
    ['["auditor","finance-director"]', []],
    ['[auditor "finance-director"]', ['auditor']],
    [['Auditor', 'auditor ', 'x'.repeat(64), '-auditor', 7], []],
  ])('one value is one role: %j grants %j and ignores the rest', (claim, roles) => {
    const parsed = parseRolesClaim(claim);
    expect(parsed.roles).toEqual(roles);
    expect(parsed.ignored).toBeGreaterThan(0);
  });
});

describe('principalFromClaims', () => {
  it('reads roles from the configured claim only', () => {
    expect(principalFromClaims({ sub: 'u', 'cognito:groups': '[auditor]', roles: ['finance-director'] }, 'cognito:groups')).toEqual({
      sub: 'u',
      roles: ['auditor'],
    });
    expect(principalFromClaims({ sub: 'u', roles: ['finance-director'] }, 'cognito:groups').roles).toEqual([]);
  });

  it('ignores values that are not plain role names, and logs how many without the value or the token', () => {
    const token = 'eyJhbGciOiJFUzI1NiJ9.secret-token';
    const output = captureOutput();
    logger.setLogLevel('WARN');
    let principal;
    try {
      principal = principalFromClaims({ sub: 'u', roles: '[support-agent,auditor "finance-director" auditor]', token }, 'roles');
    } finally {
      logger.setLogLevel('SILENT');
      output.restore();
    }
    expect(principal).toEqual({ sub: 'u', roles: ['auditor'] });
    const [line] = output.jsonLines().filter((l) => l.message === 'role claim values ignored: not plain role names');
    expect(line).toMatchObject({ level: 'WARN', roleClaim: 'roles', ignored: 2 });
    expect(output.text()).not.toContain('finance-director');
    expect(output.text()).not.toContain('support-agent');
    expect(output.text()).not.toContain(token);
  });

  it('refuses claims without a subject (401)', () => {
    expect(() => principalFromClaims({}, 'roles')).toThrow(expect.objectContaining({ status: 401, code: 'unauthorized' }));
  });
});

describe('problemFromError', () => {
  it('maps a domain error to problem+json with its code', () => {
    const response = problemFromError(new Conflict('task_already_decided', 'Already decided.'), () => undefined);
    expect(response.statusCode).toBe(409);
    expect(response.headers?.['content-type']).toBe('application/problem+json');
    expect(JSON.parse(String(response.body))).toMatchObject({ status: 409, code: 'task_already_decided', detail: 'Already decided.' });
  });

  it('hides an unexpected error behind a bare 500, and hands the error to the log', () => {
    const logged: unknown[] = [];
    const response = problemFromError(new Error('secret token abc in a message'), (e) => logged.push(e));
    expect(response.statusCode).toBe(500);
    expect(String(response.body)).not.toContain('secret');
    expect(logged).toHaveLength(1);
  });
});
