import { Connectors, ConnectorsConfig, unconfiguredActions } from '../../../lambdas/shared/connectors';
import { ConnectorFailed } from '../../../lambdas/shared/errors';
import type { RecordTable } from '../../../lambdas/shared/ports';
import type { Proposal } from '../../../lambdas/shared/schemas/actions';

/**
 * An action with no builtin (its facts and effect live only in the team's system) beside the
 * shipped ones: a config that does not name it is still a config, and only that action's
 * requests fail, with the connector named; a config that names `builtin` for it is refused.
 */
jest.mock('../../../actions', () => {
  const actual = jest.requireActual<typeof import('../../../actions')>('../../../actions');
  const { defineAction, freeText, recordId } = jest.requireActual<typeof import('../../../lambdas/shared/catalog')>('../../../lambdas/shared/catalog');
  const zod = jest.requireActual<typeof import('zod')>('zod');
  const remoteOnly = defineAction({
    name: 'badge_reset',
    title: 'badge reset',
    description: 'Resets an employee badge in the team’s own access system; a test-only action with no builtin connector at all.',
    policy: { id: 'badge-reset', version: '1', duplicateWindowDays: 1, tiers: [{ name: 'security-lead', approverRoles: ['security-lead'] }], limits: {} },
    riskClass: 'high',
    fields: zod.strictObject({ badgeId: recordId('badge', { prefix: 'B-' }), reason: freeText({ min: 5, max: 100 }) }),
    summaryFields: ['badgeId'],
    examples: [],
    facts: zod.object({}),
    receipt: zod.object({ resetId: zod.string() }),
  });
  return { ...actual, ACTION_CATALOG: [...actual.ACTION_CATALOG, [remoteOnly.name, () => remoteOnly]] };
});

const records = {} as RecordTable;
const remote = { action: 'badge_reset', fields: { badgeId: 'B-1', reason: 'lost badge' } } as unknown as Proposal;
const seeded = { action: 'tier_upgrade', fields: { customerId: 'C-1001' } } as unknown as Proposal;

it('accepts a config that does not name the action, and reports it as unconfigured', () => {
  const config = ConnectorsConfig.parse({});
  expect(unconfiguredActions(config)).toContain('badge_reset');
  const named = ConnectorsConfig.parse({
    badge_reset: { facts: { type: 'lambda', functionArn: 'arn:aws:lambda:us-east-1:123456789012:function:f' }, effect: { type: 'lambda', functionArn: 'arn:aws:lambda:us-east-1:123456789012:function:f' } },
  });
  expect(unconfiguredActions(named)).not.toContain('badge_reset');
});

it('still refuses builtin named for an action that has none', () => {
  const parsed = ConnectorsConfig.safeParse({ badge_reset: { facts: { type: 'builtin' } } });
  expect(parsed.success).toBe(false);
  expect(parsed.error?.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`)).toEqual([
    'badge_reset.facts: badge_reset has no builtin connector: configure lambda or http',
    'badge_reset.effect: badge_reset has no builtin connector: configure lambda or http',
  ]);
});

it("fails the unconfigured action's facts and effect with a ConnectorFailed naming it; the other actions keep their builtin", async () => {
  const connectors = new Connectors(ConnectorsConfig.parse({}));
  const facts = connectors.readFacts({ requestId: 'r-1', proposal: remote, records });
  await expect(facts).rejects.toBeInstanceOf(ConnectorFailed);
  await expect(facts).rejects.toMatchObject({ code: 'connector_failed', reason: 'misconfigured', connector: 'badge_reset facts builtin' });
  const effect = connectors.effect({ requestId: 'r-1', at: '2026-01-01T00:00:00Z', approvedBy: 'x', records })(remote);
  await expect(effect).rejects.toMatchObject({ reason: 'misconfigured', connector: 'badge_reset effect builtin' });

  const reader = { get: async () => ({ customerId: 'C-1001', tier: 'basic' }) } as unknown as RecordTable;
  await expect(connectors.readFacts({ requestId: 'r-2', proposal: seeded, records: reader })).resolves.toEqual({ customer: { customerId: 'C-1001', tier: 'basic' } });
});
