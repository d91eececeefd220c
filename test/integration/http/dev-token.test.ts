import { expectProblem, useTestServer } from '../../support/http-client';

/**
 * GET /local/dev-token (API.md "Identity", local mode only): a role that no policy names is a
 * typo to be told about, not a token that is quietly refused everywhere.
 */

const { client } = useTestServer();

const KNOWN = ['account-manager', 'auditor', 'credit-analyst', 'finance-director', 'procurement-manager', 'support-agent', 'support-lead'];

describe('GET /local/dev-token', () => {
  it('a misspelt role is 400 unknown_role naming it and listing the known roles', async () => {
    const response = await client.call('/local/dev-token?sub=pat&roles=procurment-manager');
    expectProblem(response, 400, 'unknown_role');
    expect(response.body.detail).toBe(`roles: unknown role procurment-manager; the known roles are ${KNOWN.join(', ')}`);
  });

  it('one unknown role among known ones refuses the whole token and names only the unknown ones', async () => {
    const response = await client.call('/local/dev-token?sub=pat&roles=auditor,janitor,procurement-manager,auditors');
    expectProblem(response, 400, 'unknown_role');
    expect(response.body.detail).toMatch(/^roles: unknown roles janitor, auditors; the known roles are /);
  });

  it('a malformed role is still validation_failed, whatever else is unknown', async () => {
    expectProblem(await client.call('/local/dev-token?sub=pat&roles=janitor,no%20spaces'), 400, 'validation_failed');
  });

  it('every known role at once, or none, mints a token the API accepts', async () => {
    for (const roles of [KNOWN.join(','), '']) {
      const minted = await client.call(`/local/dev-token?sub=pat&roles=${roles}`);
      expect(minted.status).toBe(200);
      const tasks = await client.call('/v1/tasks', { token: String(minted.body.token) });
      expect(tasks.status).toBe(200);
    }
  });
});
