import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { tierChangeKey } from '../../../actions/tier_upgrade/builtin';
import { seedSystemOfRecord } from '../../../lambdas/shared/adapters/aws/seed';
import { recordKeys } from '../../../lambdas/shared/adapters/aws/systemOfRecord';
import { Connectors } from '../../../lambdas/shared/connectors';
import { EffectPreconditionFailed } from '../../../lambdas/shared/errors';
import { newRequestId } from '../../../lambdas/shared/ids';
import { evaluatePolicy, type PolicyFacts } from '../../../lambdas/shared/policy';
import type { CustomerTier, Proposal } from '../../../lambdas/shared/schemas/actions';
import { validateProposal } from '../../../lambdas/shared/validation';
import { useEmulatedStores } from '../../support/stores';
import { clientState } from '../validation/seedRecords';

/**
 * A tier change takes effect on its effectiveDate (issue 12, finding 2): dated later than the day
 * the effect runs, it is scheduled on the customer record and the tier stays; the facts read the
 * tier as of the decision's day; a second change while one waits is refused by policy and effect.
 * Against the emulated record table, through the builtin connector as Warden calls it.
 */

const stores = useEmulatedStores();
const connectors = new Connectors({});

let counter = 0;
const unique = (prefix: string) => `${prefix}-${Date.now().toString(36)}${++counter}`;
const TODAY = '2026-06-01';
const at = (day: string) => `${day}T12:00:00.000Z`;
const agent = ['support-agent'];

async function aCustomer(tier: CustomerTier): Promise<string> {
  const customerId = unique('C');
  await seedSystemOfRecord(stores().doc, stores().emulators.tableNames.records, { vendors: [], customers: [{ customerId, tier }], records: [] });
  return customerId;
}

async function customerItem(customerId: string) {
  return stores().records.get(recordKeys.customer(customerId));
}

function upgrade(customerId: string, currentTier: CustomerTier, targetTier: CustomerTier, effectiveDate: string): Proposal {
  return { action: 'tier_upgrade', fields: { customerId, currentTier, targetTier, effectiveDate, justification: 'they outgrew their plan' } };
}

function execute(requestId: string, proposal: Proposal, day = TODAY, fingerprint = `fp-${requestId}`) {
  return stores().records.execute({ requestId, fingerprint, proposal, at: at(day) });
}

/** The facts the builtin reads on `today`, and the policy's decision over them. */
async function decide(proposal: Proposal, today: string) {
  const facts = await connectors.readFacts({ requestId: newRequestId(), proposal, records: stores().records, today });
  return { facts, decision: evaluatePolicy(proposal, { ...facts, today } as PolicyFacts, agent) };
}

/** The validator's decision on a structured request made on `today` (it reads the facts itself). */
async function validate(proposal: Proposal, today: string) {
  const state = clientState('Tier change for a customer', proposal.action, proposal.fields, { requestId: newRequestId(), roles: agent });
  const { decision } = await validateProposal({ state, records: stores().records, today });
  return decision;
}

describe('an upgrade dated after the day the effect runs', () => {
  it('is scheduled: the tier is unchanged, the customer record and the change record say so', async () => {
    const customerId = await aCustomer('basic');
    const requestId = newRequestId();
    const receipt = await execute(requestId, upgrade(customerId, 'basic', 'standard', '2027-01-01'));

    expect(receipt).toEqual({ customerId, fromTier: 'basic', toTier: 'standard', effectiveDate: '2027-01-01', status: 'scheduled' });
    expect(await stores().records.getCustomer(customerId)).toEqual({ customerId, tier: 'basic' });
    expect(await customerItem(customerId)).toMatchObject({ tier: 'basic', scheduledTier: 'standard', scheduledOn: '2027-01-01', scheduledRequestId: requestId });
    expect(await stores().records.get(tierChangeKey(requestId))).toMatchObject({ requestId, customerId, status: 'scheduled', at: at(TODAY) });
  });

  it('a retry returns the same receipt and writes nothing new', async () => {
    const customerId = await aCustomer('basic');
    const requestId = newRequestId();
    const proposal = upgrade(customerId, 'basic', 'standard', '2027-01-01');
    const receipt = await execute(requestId, proposal);
    const [customerBefore, changeBefore] = [await customerItem(customerId), await stores().records.get(tierChangeKey(requestId))];

    expect(await execute(requestId, proposal, '2026-06-02')).toEqual(receipt);
    expect(await customerItem(customerId)).toEqual(customerBefore);
    expect(await stores().records.get(tierChangeKey(requestId))).toEqual(changeBefore);
  });

  it('a retry whose first attempt scheduled the change but stopped before recording it completes it', async () => {
    const customerId = await aCustomer('basic');
    const requestId = newRequestId();
    await stores().doc.send(
      new UpdateCommand({
        TableName: stores().emulators.tableNames.records,
        Key: recordKeys.customer(customerId),
        UpdateExpression: 'SET scheduledTier = :to, scheduledOn = :on, scheduledRequestId = :rid',
        ExpressionAttributeValues: { ':to': 'standard', ':on': '2027-01-01', ':rid': requestId },
      }),
    );
    expect(await execute(requestId, upgrade(customerId, 'basic', 'standard', '2027-01-01'))).toMatchObject({ status: 'scheduled' });
    expect(await stores().records.get(tierChangeKey(requestId))).toMatchObject({ requestId, status: 'scheduled' });
    expect(await customerItem(customerId)).toMatchObject({ tier: 'basic', scheduledTier: 'standard', scheduledRequestId: requestId });
  });

  it('dated the day the effect runs, the tier moves at once (applied)', async () => {
    const customerId = await aCustomer('basic');
    const requestId = newRequestId();
    expect(await execute(requestId, upgrade(customerId, 'basic', 'standard', TODAY))).toEqual({
      customerId,
      fromTier: 'basic',
      toTier: 'standard',
      effectiveDate: TODAY,
      status: 'applied',
    });
    const customer = await customerItem(customerId);
    expect(customer).toMatchObject({ tier: 'standard', tierEffectiveDate: TODAY, lastUpgradeRequestId: requestId });
    expect(customer).not.toHaveProperty('scheduledTier');
  });
});

describe('the facts: the tier as of the decision day', () => {
  it('before the date: the old tier and the change to come; on and after it: the new tier, nothing pending', async () => {
    const customerId = await aCustomer('basic');
    const probe = upgrade(customerId, 'standard', 'premium', '2027-02-01');
    await execute(newRequestId(), upgrade(customerId, 'basic', 'standard', '2027-01-01'));

    expect((await decide(probe, '2026-12-31')).facts).toEqual({
      customer: { customerId, tier: 'basic', scheduled: { tier: 'standard', effectiveDate: '2027-01-01' } },
    });
    for (const today of ['2027-01-01', '2027-03-15']) {
      expect((await decide(probe, today)).facts).toEqual({ customer: { customerId, tier: 'standard' } });
    }
    // Read lazily: the stored record still waits for an effect to write it.
    expect(await customerItem(customerId)).toMatchObject({ tier: 'basic', scheduledTier: 'standard' });
  });

  it('the next effect after the date writes the scheduled tier first, then moves from it', async () => {
    const customerId = await aCustomer('basic');
    const first = newRequestId();
    await execute(first, upgrade(customerId, 'basic', 'standard', '2027-01-01'));
    const second = newRequestId();
    expect(await execute(second, upgrade(customerId, 'standard', 'premium', '2027-01-05'), '2027-01-05')).toMatchObject({ status: 'applied', fromTier: 'standard', toTier: 'premium' });
    const customer = await customerItem(customerId);
    expect(customer).toMatchObject({ tier: 'premium', tierEffectiveDate: '2027-01-05', lastUpgradeRequestId: second });
    expect(customer).not.toHaveProperty('scheduledTier');
    expect(customer).not.toHaveProperty('scheduledOn');
  });
});

describe('a second change while one is scheduled', () => {
  it('policy refuses it: REJECTED tier_change_scheduled, whichever tier it states', async () => {
    const customerId = await aCustomer('basic');
    await execute(newRequestId(), upgrade(customerId, 'basic', 'standard', '2027-01-01'));

    // The red team's second step, stated from the tier to come: also not on that tier yet.
    expect((await decide(upgrade(customerId, 'standard', 'premium', '2027-01-02'), TODAY)).decision).toEqual({
      outcome: 'rejected',
      reasons: ['tier_mismatch', 'tier_change_scheduled'],
      policy: { id: 'tier-upgrade', version: expect.any(String) },
    });
    expect((await decide(upgrade(customerId, 'basic', 'standard', '2027-02-01'), TODAY)).decision).toMatchObject({
      outcome: 'rejected',
      reasons: ['tier_change_scheduled'],
    });
    // Once it has taken effect, the next one step is the customer's to take.
    expect((await decide(upgrade(customerId, 'standard', 'premium', '2027-02-01'), '2027-01-01')).decision).toMatchObject({
      outcome: 'approved',
      reasons: [],
    });
  });

  it('the validator reads the facts as of its today', async () => {
    const customerId = await aCustomer('basic');
    await execute(newRequestId(), upgrade(customerId, 'basic', 'standard', '2027-01-01'));
    const next = upgrade(customerId, 'standard', 'premium', '2027-02-01');
    expect(await validate(next, '2026-12-31')).toMatchObject({ outcome: 'rejected', reasons: ['tier_mismatch', 'tier_change_scheduled'] });
    expect(await validate(next, '2027-01-01')).toMatchObject({ outcome: 'approved', reasons: [] });
  });

  it('the effect refuses it (tier_change_scheduled), changes nothing and frees the fingerprint', async () => {
    const customerId = await aCustomer('basic');
    const first = newRequestId();
    await execute(first, upgrade(customerId, 'basic', 'standard', '2027-01-01'));
    const before = await customerItem(customerId);

    for (const proposal of [upgrade(customerId, 'basic', 'premium', '2027-02-01'), upgrade(customerId, 'basic', 'standard', TODAY)]) {
      const [requestId, fingerprint] = [newRequestId(), unique('fp')];
      const refused = execute(requestId, proposal, TODAY, fingerprint);
      await expect(refused).rejects.toBeInstanceOf(EffectPreconditionFailed);
      await expect(refused).rejects.toMatchObject({ code: 'tier_change_scheduled', message: expect.stringMatching(/scheduled for 2027-01-01/) });
      expect(await stores().records.get(tierChangeKey(requestId))).toBeUndefined();
      expect(await stores().records.findEffect(fingerprint)).toBeUndefined();
    }
    expect(await customerItem(customerId)).toEqual(before);
  });

  it('of two concurrent changes dated later, exactly one is scheduled', async () => {
    const customerId = await aCustomer('basic');
    const requests = [newRequestId(), newRequestId(), newRequestId()];
    const results = await Promise.allSettled(requests.map((id, i) => execute(id, upgrade(customerId, 'basic', 'standard', `2027-01-0${i + 1}`))));
    const scheduled = results.filter((r) => r.status === 'fulfilled');
    expect(scheduled).toHaveLength(1);
    expect(results.filter((r) => r.status === 'rejected').map((r) => (r as PromiseRejectedResult).reason.code)).toEqual(['tier_change_scheduled', 'tier_change_scheduled']);
    const winner = requests[results.findIndex((r) => r.status === 'fulfilled')];
    expect(await customerItem(customerId)).toMatchObject({ tier: 'basic', scheduledRequestId: winner });
  });
});
