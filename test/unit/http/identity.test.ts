import { parseRolesClaim, principalFromClaims } from '../../../lambdas/shared/http/identity';
import { problemFromError } from '../../../lambdas/shared/http/problem';
import { Conflict } from '../../../lambdas/shared/errors';

describe('parseRolesClaim', () => {
  it.each([
    [['a', 'b'], ['a', 'b']],
    ['["a","b"]', ['a', 'b']],
    ['[a b]', ['a', 'b']],
    ['a,b', ['a', 'b']],
    ['a', ['a']],
    [undefined, []],
    [42, []],
  ])('%j → %j', (claim, roles) => {
    expect(parseRolesClaim(claim)).toEqual(roles);
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
