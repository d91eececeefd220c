import { useTestServer } from '../../support/http-client';

/**
 * A stack whose config does not name credit_limit_change's connectors (it has no builtin): the
 * stack starts, that action's requests FAIL connector_failed naming the connector, and the other
 * actions run. (A file of its own: the handlers read their connectors once per process.)
 */

const manager = { sub: 'clu-amy', roles: ['account-manager'] };
const { client } = useTestServer();

it('fails its requests connector_failed, naming the connector, and runs the others', async () => {
  const requestId = await client.submitOk(manager, {
    text: 'Credit limit change',
    action: 'credit_limit_change',
    fields: { customerId: 'C-1001', newLimit: 6000, reason: 'annual review of their payment record' },
  });
  const failed = await client.waitForStatus(manager, requestId, 'FAILED', 'PENDING_APPROVAL', 'COMPLETED', 'REJECTED');
  expect(failed.status).toBe('FAILED');
  expect(failed.error).toEqual({ code: 'connector_failed', message: expect.stringContaining('credit_limit_change facts builtin connector failed (misconfigured)') });
  expect(failed.result).toBeUndefined();

  const upgrade = await client.submitOk(manager, {
    text: 'Upgrade',
    action: 'tier_upgrade',
    fields: { customerId: 'C-1001', currentTier: 'basic', targetTier: 'standard', effectiveDate: '2099-01-01', justification: 'they outgrew their plan' },
  });
  expect((await client.waitForStatus(manager, upgrade, 'COMPLETED', 'FAILED', 'REJECTED')).status).toBe('COMPLETED');
});
