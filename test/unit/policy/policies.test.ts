import * as fs from 'node:fs';
import * as path from 'node:path';
import routingJson from '../../../policies/routing.json';
import { compilePolicy, evaluatePolicy, parsePolicySet, shippedPolicies, reasonCodes, type RawPolicySet } from '../../../lambdas/shared/policy';
import { cedarModule } from '../../../lambdas/shared/policy/cedar';
import { BASE_POLICIES, BASE_SCHEMA } from '../../../lambdas/shared/policy/base';
import { policyMap } from '../../../lambdas/shared/policy/cedar';
import { ACTIONS, type Proposal } from '../../../lambdas/shared/schemas/actions';

const ACTIONS_DIR = path.join(__dirname, '../../../actions');
const read = (action: string, file: string) => fs.readFileSync(path.join(ACTIONS_DIR, action, file), 'utf8');

/** The catalog's policy data and Cedar texts, as files hold them: each test mutates its own copy. */
function rawPolicies(): RawPolicySet & { actions: Record<string, { policy: Record<string, unknown>; source: { policy: string; schema: string } }> } {
  return {
    routing: structuredClone(routingJson),
    actions: Object.fromEntries(
      ACTIONS.map((action) => [
        action,
        { policy: JSON.parse(read(action, 'policy.json')), source: { policy: read(action, 'policy.cedar'), schema: read(action, 'policy.cedarschema') } },
      ]),
    ),
  };
}

describe('catalog policies', () => {
  it('load with their ids and versions', () => {
    expect(shippedPolicies().purchase_order).toMatchObject({ id: 'purchase-order', version: '2026-12-03', limits: { autonomousLimitCents: 500_000 } });
    expect(shippedPolicies().tier_upgrade).toMatchObject({ id: 'tier-upgrade', version: '2026-12-04' });
    expect(shippedPolicies().refund).toMatchObject({ id: 'refund', version: '2026-12-03' });
    expect(shippedPolicies().routing.confidenceThreshold).toBe(0.95);
  });

  it('give every action a duplicate window', () => {
    for (const action of ACTIONS) expect(shippedPolicies()[action].duplicateWindowDays).toBeGreaterThan(0);
    expect(ACTIONS.slice(0, 4).map((action) => shippedPolicies()[action].duplicateWindowDays)).toEqual([30, 30, 30, 30]);
  });

  it.each(ACTIONS)('%s: the policy validates against its schema in strict mode, with Cedar itself', (action) => {
    const schema = `${BASE_SCHEMA}\n${read(action, 'policy.cedarschema')}`;
    const policies = { ...policyMap(BASE_POLICIES, 'base'), ...policyMap(read(action, 'policy.cedar'), action) };
    const result = cedarModule().validate({ schema, policies: { staticPolicies: policies }, validationSettings: { mode: 'strict' } });
    expect(result).toMatchObject({ type: 'success', validationErrors: [] });
  });

  it.each(ACTIONS)('%s: every tier name is the id of an Approve permit for one of its approver roles', (action) => {
    const policies = policyMap(read(action, 'policy.cedar'), action);
    for (const tier of shippedPolicies()[action].tiers) {
      const json = cedarModule().policyToJson(policies[tier.name]);
      expect(json).toMatchObject({
        type: 'success',
        json: { effect: 'permit', action: { op: '==', entity: { type: 'Action', id: 'Approve' } }, principal: { op: 'in', entity: { type: 'Role' } } },
      });
      const role = (json as { json: { principal: { entity: { id: string } } } }).json.principal.entity.id;
      expect(tier.approverRoles).toContain(role);
    }
  });

  it.each([
    ['a missing limit', (p: ReturnType<typeof rawPolicies>) => delete p.actions.purchase_order.policy.limits, 'purchase_order.limits'],
    ['an unknown key', (p: ReturnType<typeof rawPolicies>) => Object.assign(p.actions.refund.policy, { autoApproveBelow: 100 }), 'refund'],
    ['a tier with no approver', (p: ReturnType<typeof rawPolicies>) => ((p.actions.refund.policy.tiers as { approverRoles: string[] }[])[0].approverRoles = []), 'refund.tiers.0.approverRoles'],
    ['a confidence threshold above 1', (p: ReturnType<typeof rawPolicies>) => ((p.routing as { confidenceThreshold: number }).confidenceThreshold = 1.5), 'routing.confidenceThreshold'],
    ['no duplicate window', (p: ReturnType<typeof rawPolicies>) => delete p.actions.refund.policy.duplicateWindowDays, 'refund.duplicateWindowDays'],
    ['a zero duplicate window', (p: ReturnType<typeof rawPolicies>) => (p.actions.purchase_order.policy.duplicateWindowDays = 0), 'purchase_order.duplicateWindowDays'],
    ['a fractional duplicate window', (p: ReturnType<typeof rawPolicies>) => (p.actions.tier_upgrade.policy.duplicateWindowDays = 1.5), 'tier_upgrade.duplicateWindowDays'],
    ['money limits that are not whole cents', (p: ReturnType<typeof rawPolicies>) => ((p.actions.refund.policy.limits as Record<string, number>).financeDirectorFromCents = 999.5), 'refund.limits'],
  ])('fail loudly with %s, naming the path', (_name, mutate, where) => {
    const raw = rawPolicies();
    mutate(raw);
    expect(() => parsePolicySet(raw)).toThrow(where);
  });

  const compiles = (mutate: (p: ReturnType<typeof rawPolicies>) => void) => {
    const raw = rawPolicies();
    mutate(raw);
    return () => compilePolicy(parsePolicySet(raw).refund);
  };

  it.each([
    ['a policy that does not type-check (strict validation)', (p: ReturnType<typeof rawPolicies>) => (p.actions.refund.source.policy += '\n@explain("x") @id("refund_exceeds_order2") forbid(principal, action == Action::"Request", resource is Proposal) when { resource.amount > 5 };'), /refund_exceeds_order2/],
    ['a forbid whose id is no reason code', (p: ReturnType<typeof rawPolicies>) => (p.actions.refund.source.policy = p.actions.refund.source.policy.replace('"high_risk_action"', '"Too-Risky"')), /forbid Too-Risky is not a reason code/],
    ['a forbid that claims a code the pipeline assigns', (p: ReturnType<typeof rawPolicies>) => (p.actions.refund.source.policy = p.actions.refund.source.policy.replace('"high_risk_action"', '"low_confidence"')), /forbid low_confidence is a reason code the pipeline assigns/],
    ['a tier without its Approve permit', (p: ReturnType<typeof rawPolicies>) => (p.actions.refund.source.policy = p.actions.refund.source.policy.replace('@id("support-lead")', '@id("lead")')), /Approve permit lead is not a tier/],
    ['a policy without @id', (p: ReturnType<typeof rawPolicies>) => (p.actions.refund.source.policy += '\nforbid(principal, action == Action::"RunAutonomously", resource);'), /without @id/],
    ['a policy that overrides a base policy id', (p: ReturnType<typeof rawPolicies>) => (p.actions.refund.source.policy = p.actions.refund.source.policy.replace('"high_risk_action"', '"own_request"')), /own_request is reserved/],
    ['a tier whose permit names another role', (p: ReturnType<typeof rawPolicies>) => ((p.actions.refund.policy.tiers as { approverRoles: string[] }[])[0].approverRoles = ['someone-else']), /tier support-lead has no Approve permit/],
    ['a forbid without @explain', (p: ReturnType<typeof rawPolicies>) => (p.actions.refund.source.policy = p.actions.refund.source.policy.replace(/@explain\("[^"]*"\)\n(@id\("order_not_found"\))/, '$1')), /forbid order_not_found has no @explain/],
    ['a forbid whose @explain is blank', (p: ReturnType<typeof rawPolicies>) => (p.actions.refund.source.policy = p.actions.refund.source.policy.replace(/@explain\("[^"]*"\)\n(@id\("high_risk_action"\))/, '@explain("  ")\n$1')), /forbid high_risk_action has no @explain/],
  ])('refuse to load %s', (_name, mutate, message) => {
    expect(compiles(mutate)).toThrow(message);
  });

  it("accept an action's own snake_case forbid id as a reason code, and list it with the core's", () => {
    const raw = rawPolicies();
    raw.actions.refund.source.policy = raw.actions.refund.source.policy.replace('"high_risk_action"', '"refund_needs_a_human"');
    const policies = parsePolicySet(raw);
    expect(compilePolicy(policies.refund).reasons).toEqual(['action_not_permitted', 'order_not_found', 'refund_exceeds_order', 'refund_needs_a_human']);
    expect(reasonCodes(policies)).toContain('refund_needs_a_human');
    const proposal: Proposal = { action: 'refund', fields: { customerId: 'C-1002', orderId: 'O-5001', amount: 20, reason: 'damaged' } };
    const order = { orderId: 'O-5001', customerId: 'C-1002', total: 450, currency: 'USD', refundedTotal: 0 };
    expect(evaluatePolicy(proposal, { today: '2026-11-15', order }, ['support-agent'], policies)).toMatchObject({ outcome: 'pending_approval', reasons: ['refund_needs_a_human'] });
  });

  // What the shipped catalog gives; a team's own action adds its codes to these.
  it('list every reason code the shipped catalog can give', () => {
    expect(reasonCodes()).toEqual([...new Set(reasonCodes())].sort());
    expect(reasonCodes()).toEqual(expect.arrayContaining([
      'above_autonomous_limit', 'action_not_permitted', 'amount_out_of_range', 'customer_not_found', 'duplicate_proposal',
      'effective_date_in_past', 'high_risk_action', 'invalid_transition', 'low_confidence', 'multi_step_upgrade',
      'needs_human_triage', 'no_change', 'order_not_found', 'refund_exceeds_order', 'security_queue', 'suspected_prompt_injection', 'ticket_closed',
      'ticket_not_found', 'tier_mismatch',
      'ungrounded_value', 'unvalidated_vendor',
    ]));
  });

  it('drive the rules: a changed limit in the data changes the decision, with the same Cedar text', () => {
    const raw = rawPolicies();
    Object.assign(raw.actions.purchase_order.policy.limits as Record<string, number>, { autonomousLimitCents: 100_000, financeDirectorFromCents: 200_000 });
    const policies = parsePolicySet(raw);
    const proposal: Proposal = {
      action: 'purchase_order',
      fields: { vendor: 'Initech', amount: 2500, currency: 'USD', description: 'paper' },
    };
    const facts = { today: '2026-11-15', vendor: { name: 'Initech', validated: true } };
    expect(evaluatePolicy(proposal, facts, [], shippedPolicies()).outcome).toBe('approved');
    expect(evaluatePolicy(proposal, facts, [], policies)).toMatchObject({
      outcome: 'pending_approval',
      reasons: ['above_autonomous_limit'],
      tier: 'finance-director',
      approverRoles: ['finance-director'],
    });
  });

  it('a limit the schema does not declare fails closed at the first decision', () => {
    const raw = rawPolicies();
    delete (raw.actions.purchase_order.policy.limits as Record<string, number>).autonomousLimitCents;
    const policies = parsePolicySet(raw);
    const proposal: Proposal = { action: 'purchase_order', fields: { vendor: 'Initech', amount: 25, currency: 'USD', description: 'paper' } };
    expect(() => evaluatePolicy(proposal, { today: '2026-11-15' }, [], policies)).toThrow(/limits.autonomousLimitCents: missing/);
  });

  describe('cumulative facts (policy.json `cumulative`, read as context.facts.cumulative)', () => {
    type Measures = Record<string, unknown>[];
    const measures = (raw: ReturnType<typeof rawPolicies>, action = 'purchase_order') => raw.actions[action].policy.cumulative as Measures;

    it.each([
      ['a per that is neither requester nor a field', (m: Measures) => (m[0].per = ['supplier']), /per supplier is neither "requester" nor a field/],
      ['a sum of a field that is not money', (m: Measures) => (m[0].sum = 'description'), /sum description is not a money field/],
      ['a name Cedar cannot read as an attribute', (m: Measures) => (m[0].name = 'per-vendor'), /camelCase/],
      ['two measures of one name', (m: Measures) => (m[1].name = 'vendor'), /cumulative names must be unique/],
      ['counted from a field that is not a date', (m: Measures) => (m[0].countedFrom = 'description'), /countedFrom description is not a date field/],
    ])('%s is refused at load', (_case, spoil, message) => {
      const raw = rawPolicies();
      spoil(measures(raw));
      expect(() => parsePolicySet(raw)).toThrow(message);
    });

    it('steps between fields no rank orders are refused at load', () => {
      const raw = rawPolicies();
      raw.actions.tier_upgrade.policy.ranks = [];
      expect(() => parsePolicySet(raw)).toThrow(/steps from currentTier to targetTier are not fields of one rank/);
    });

    it('the Cedar schema must declare exactly the measures policy.json counts, as Longs', () => {
      const dropped = rawPolicies();
      measures(dropped).pop();
      expect(() => compilePolicy(parsePolicySet(dropped).purchase_order)).toThrow(/declares \[requesterVendor, vendor\] but policy.json counts \[vendor\]/);

      const none = rawPolicies();
      delete none.actions.purchase_order.policy.cumulative;
      expect(() => compilePolicy(parsePolicySet(none).purchase_order)).toThrow(/Facts declares cumulative, but policy.json counts none/);

      const optional = rawPolicies();
      optional.actions.purchase_order.source.schema = optional.actions.purchase_order.source.schema.replace('cumulative: {', 'cumulative?: {');
      // Optional, a policy could read it only behind `has`, and a missing figure would then let an order through: Cedar's strict validation refuses the reads.
      expect(() => compilePolicy(parsePolicySet(optional).purchase_order)).toThrow(/unable to guarantee safety of access to optional attribute `facts.cumulative`/);
    });

    it('alone (no ledger), each total is the proposal\'s own share: one order just under the limit runs with no human', () => {
      const proposal: Proposal = { action: 'purchase_order', fields: { vendor: 'Initech', amount: 4999.99, currency: 'USD', description: 'paper' } };
      const facts = { today: '2026-11-15', vendor: { name: 'Initech', validated: true } };
      expect(evaluatePolicy(proposal, facts, [])).toMatchObject({ outcome: 'approved' });
      // With what is already committed to the vendor, the same order is over it.
      expect(evaluatePolicy(proposal, { ...facts, cumulative: { vendor: 999_998, requesterVendor: 499_999 } }, [])).toMatchObject({
        outcome: 'pending_approval',
        reasons: ['above_autonomous_limit'],
        tier: 'procurement-manager',
      });
      expect(evaluatePolicy(proposal, { ...facts, cumulative: { vendor: 5_000_000, requesterVendor: 5_000_000 } }, [])).toMatchObject({ tier: 'finance-director' });
    });
  });

  describe('fail closed', () => {
    const small: Proposal = { action: 'purchase_order', fields: { vendor: 'Initech', amount: 25, currency: 'USD', description: 'paper' } };
    const facts = { today: '2026-11-15', vendor: { name: 'Initech', validated: true } };

    it('a forbid that errors while evaluating (Cedar would skip it and allow) throws instead of approving', () => {
      const raw = rawPolicies();
      const source = raw.actions.purchase_order.source;
      source.policy = source.policy.replace(
        'context.facts.cumulative.vendor >= context.limits.autonomousLimitCents',
        'context.facts.cumulative.vendor * 4611686018427387 >= context.limits.autonomousLimitCents',
      );
      const policies = parsePolicySet(raw);
      expect(() => evaluatePolicy(small, facts, [], policies)).toThrow(/above_autonomous_limit: integer overflow/);
      expect(evaluatePolicy(small, facts, [])).toMatchObject({ outcome: 'approved' });
    });

    it('a Long literal JavaScript cannot carry exactly (beyond 2^53) is refused at load, not rounded', () => {
      const raw = rawPolicies();
      raw.actions.purchase_order.source.policy += '\n@explain("x") @id("unvalidated_vendor_2") forbid(principal, action == Action::"RunAutonomously", resource) when { 9223372036854775807 < 0 };';
      expect(() => compilePolicy(parsePolicySet(raw).purchase_order)).toThrow(/unvalidated_vendor_2/);
    });

    it('a fact of the wrong type never reaches a policy', () => {
      const wrong = { today: '2026-11-15', vendor: { name: 'Initech', validated: 'yes' as unknown as boolean } };
      expect(() => evaluatePolicy(small, wrong, [])).toThrow(/facts.vendor.validated: expected a boolean/);
    });
  });
});
