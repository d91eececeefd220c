import { expectProblem, useTestServer } from '../../support/http-client';

/**
 * tier_upgrade over HTTP (DESIGN.md §3): the policy's rejections, the one-step upgrade that runs
 * on its own, and who may ask. The multi-step upgrade, which needs C-1001 still on basic, has
 * its own server in tier-upgrade-multi-step.test.ts.
 *
 * The rejections are declared before the upgrades that change the seed customers (C-1001 basic
 * → standard, C-1002 standard → premium); jest runs a file's tests in declaration order.
 */

const agent = { sub: 'tu-sam', roles: ['support-agent'] };
const accountManager = { sub: 'tu-amy', roles: ['account-manager'] };

const { client } = useTestServer();

const upgrade = (fields: Record<string, string>, text = 'Tier change for a customer') => ({
  text,
  action: 'tier_upgrade',
  fields: { justification: 'they outgrew their current plan', effectiveDate: '2099-01-01', ...fields },
});

describe('policy rejections', () => {
  it.each([
    ['tier_mismatch', { customerId: 'C-1003', currentTier: 'standard', targetTier: 'premium' }],
    ['invalid_transition', { customerId: 'C-1003', currentTier: 'premium', targetTier: 'standard' }],
    ['effective_date_in_past', { customerId: 'C-1001', currentTier: 'basic', targetTier: 'standard', effectiveDate: '2020-01-01' }],
    ['customer_not_found', { customerId: 'C-9999', currentTier: 'basic', targetTier: 'standard' }],
  ])('%s: REJECTED with that reason, nothing executed', async (reason, fields) => {
    const requestId = await client.submitOk(agent, upgrade(fields));
    const done = await client.waitForStatus(agent, requestId, 'REJECTED');
    expect(done).toMatchObject({
      status: 'REJECTED',
      action: 'tier_upgrade',
      route: 'deterministic',
      decision: { outcome: 'rejected', reasons: [reason], policy: { id: expect.any(String), version: expect.any(String) } },
    });
    expect(done.result).toBeUndefined();
    expect(done.approval).toBeUndefined();
  });

  it('free text naming a downward move is REJECTED invalid_transition', async () => {
    const requestId = await client.submitOk(agent, {
      text: 'Upgrade customer C-1003 from premium to standard from 2099-01-01, they want a smaller bill',
    });
    const done = await client.waitForStatus(agent, requestId, 'REJECTED');
    expect(done).toMatchObject({
      status: 'REJECTED',
      route: 'generative',
      proposal: { action: 'tier_upgrade', fields: { customerId: 'C-1003', currentTier: 'premium', targetTier: 'standard' } },
      decision: { outcome: 'rejected', reasons: ['invalid_transition'] },
    });
  });
});

describe('who may ask', () => {
  it('a requester without support-agent or account-manager naming the action gets 403 action_not_permitted at once', async () => {
    const buyer = { sub: 'tu-bo', roles: ['procurement-manager'] };
    const response = await client.submit(buyer, upgrade({ customerId: 'C-1002', currentTier: 'standard', targetTier: 'premium' }));
    expectProblem(response, 403, 'action_not_permitted');
  });

  it('an account-manager may ask (the request is accepted)', async () => {
    const requestId = await client.submitOk(accountManager, upgrade({ customerId: 'C-9998', currentTier: 'basic', targetTier: 'standard' }));
    expect(await client.waitForStatus(accountManager, requestId, 'REJECTED')).toMatchObject({ decision: { reasons: ['customer_not_found'] } });
  });
});

describe('one-step upgrades run on their own', () => {
  it('the seed phrasing (C-1001 basic → standard, future date) COMPLETES with the change as `result`', async () => {
    const requestId = await client.submitOk(agent, { text: 'Upgrade customer C-1001 from basic to standard from 2099-01-01, they outgrew their plan' });
    const done = await client.waitForStatus(agent, requestId, 'COMPLETED');
    expect(done).toMatchObject({
      status: 'COMPLETED',
      action: 'tier_upgrade',
      route: 'generative',
      model: { provider: 'rules' },
      proposal: {
        action: 'tier_upgrade',
        fields: { customerId: 'C-1001', currentTier: 'basic', targetTier: 'standard', effectiveDate: '2099-01-01', justification: expect.any(String) },
      },
      decision: { outcome: 'approved', reasons: [] },
      result: { customerId: 'C-1001', fromTier: 'basic', toTier: 'standard', effectiveDate: '2099-01-01', status: 'scheduled' },
    });
    expect(done.approval).toBeUndefined();
  });

  it('a structured one-step upgrade (C-1002 standard → premium) COMPLETES', async () => {
    const requestId = await client.submitOk(agent, upgrade({ customerId: 'C-1002', currentTier: 'standard', targetTier: 'premium', effectiveDate: '2099-02-01' }));
    const done = await client.waitForStatus(agent, requestId, 'COMPLETED');
    expect(done).toMatchObject({
      status: 'COMPLETED',
      route: 'deterministic',
      decision: { outcome: 'approved', reasons: [] },
      result: { customerId: 'C-1002', fromTier: 'standard', toTier: 'premium', effectiveDate: '2099-02-01', status: 'scheduled' },
    });
  });

  it('the upgrade dated later is scheduled: C-1001 gets no second change until it takes effect (tier_change_scheduled)', async () => {
    const requestId = await client.submitOk(agent, upgrade({ customerId: 'C-1001', currentTier: 'basic', targetTier: 'standard', effectiveDate: '2099-03-01' }));
    expect(await client.waitForStatus(agent, requestId, 'REJECTED')).toMatchObject({ decision: { outcome: 'rejected', reasons: ['tier_change_scheduled'] } });
  });
});
