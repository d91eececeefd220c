import { useTestServer } from '../../support/http-client';

/**
 * Issue 12, finding 2, through the local stack: C-1001 basic → standard and then standard →
 * premium a second apart made the two-step change that needs an account manager. A change dated
 * later is now scheduled, not made, and the customer gets no second one until it takes effect.
 * Its own server: it needs C-1001 on basic with nothing scheduled. Dates are from the clock, so
 * that they stay in the future.
 */

const agent = { sub: 'ts-sam', roles: ['support-agent'] };
const { client } = useTestServer();

const daysFromNow = (days: number) => new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 10);
const upgrade = (currentTier: string, targetTier: string, effectiveDate: string) => ({
  text: 'Tier change for a customer',
  action: 'tier_upgrade',
  fields: { customerId: 'C-1001', currentTier, targetTier, effectiveDate, justification: 'they outgrew their current plan' },
});

it('an upgrade dated later COMPLETES as scheduled; the next request for the customer is REJECTED tier_change_scheduled', async () => {
  const effectiveDate = daysFromNow(30);
  const first = await client.submitOk(agent, upgrade('basic', 'standard', effectiveDate));
  expect(await client.waitForStatus(agent, first, 'COMPLETED')).toMatchObject({
    status: 'COMPLETED',
    decision: { outcome: 'approved', reasons: [] },
    result: { customerId: 'C-1001', fromTier: 'basic', toTier: 'standard', effectiveDate, status: 'scheduled' },
  });

  // The red team's second step, stated from the tier to come: the tier has not moved, and one change waits.
  const second = await client.submitOk(agent, upgrade('standard', 'premium', daysFromNow(31)));
  const refused = await client.waitForStatus(agent, second, 'REJECTED');
  expect(refused).toMatchObject({ status: 'REJECTED', decision: { outcome: 'rejected', reasons: ['tier_mismatch', 'tier_change_scheduled'] } });
  expect(refused.result).toBeUndefined();

  // Stated from the tier on record, it is still one change too many.
  const third = await client.submitOk(agent, upgrade('basic', 'standard', daysFromNow(45)));
  expect(await client.waitForStatus(agent, third, 'REJECTED')).toMatchObject({ decision: { outcome: 'rejected', reasons: ['tier_change_scheduled'] } });
});
