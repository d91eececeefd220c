import type * as Registry from '../../../lambdas/shared/catalog/registry';
import type * as Schemas from '../../../lambdas/shared/schemas/actions';
import type * as Workflow from '../../../lambdas/shared/schemas/workflow';

type Entry = readonly [string, () => { name: string }];

/**
 * The registry and the schemas, loaded fresh over the shipped catalog with each action's loader
 * counted (or with `entries` instead), so a test sees which actions a step built.
 */
function loadWith(entries?: (actual: readonly Entry[]) => readonly Entry[]) {
  const built: string[] = [];
  let modules!: { registry: typeof Registry; schemas: typeof Schemas; workflow: typeof Workflow };
  jest.isolateModules(() => {
    jest.doMock('../../../actions', () => {
      const actual = jest.requireActual<typeof import('../../../actions')>('../../../actions');
      const counted = (actual.ACTION_CATALOG as readonly Entry[]).map(([name, load]) => [name, () => (built.push(name), load())] as const);
      return { ...actual, ACTION_CATALOG: entries ? entries(counted) : counted };
    });
    modules = {
      registry: jest.requireActual('../../../lambdas/shared/catalog/registry'),
      schemas: jest.requireActual('../../../lambdas/shared/schemas/actions'),
      workflow: jest.requireActual('../../../lambdas/shared/schemas/workflow'),
    };
  });
  return { ...modules, built };
}

afterEach(() => jest.dontMock('../../../actions'));

describe('the registry builds an action on first use', () => {
  const state = {
    requestId: 'r_1',
    requestedBy: { sub: 'alice', roles: ['support-agent'] },
    submittedAt: '2026-12-01T00:00:00Z',
    text: 'Refund $58 on order O-5001',
    approvalTimeoutSeconds: 60,
  };

  it('builds no action when the schemas load, and knows every name', () => {
    const { schemas, built } = loadWith();
    // Every name actions/index.ts registers (a team's own action included), in its order.
    const registered = (jest.requireActual<typeof import('../../../actions')>('../../../actions').ACTION_CATALOG as readonly Entry[]).map(([name]) => name);
    expect(registered).toEqual(expect.arrayContaining(['purchase_order', 'tier_upgrade', 'refund', 'ticket_routing', 'credit_limit_change']));
    expect(schemas.ACTIONS).toEqual(registered);
    expect(schemas.ActionName.safeParse('refund').success).toBe(true);
    expect(built).toEqual([]);
  });

  it('builds only the action a proposal names, with the issues its fields schema gives', () => {
    const { workflow, registry, built } = loadWith();
    const fields = { customerId: 'C-1001', orderId: 'O-5001', amount: 58, reason: 'wrong colour' };
    expect(workflow.WorkflowState.parse({ ...state, proposal: { action: 'refund', fields } }).proposal).toEqual({ action: 'refund', fields });
    const badFields = { ...fields, orderId: 'O 5001', amount: 5.555, extra: 1 };
    const bad = workflow.WorkflowState.safeParse({ ...state, proposal: { action: 'refund', fields: badFields } });
    const own = registry.actionDefinition('refund').fields.safeParse(badFields);
    expect(bad.error?.issues).toEqual(own.error?.issues.map((issue) => ({ ...issue, path: ['proposal', 'fields', ...issue.path] })));
    expect(bad.error?.issues.map((issue) => issue.path.join('.'))).toEqual(expect.arrayContaining(['proposal.fields.orderId', 'proposal.fields.amount']));
    expect(workflow.WorkflowState.safeParse({ ...state, proposal: { action: 'parking_permit', fields: {} } }).success).toBe(false);
    expect(built).toEqual(['refund']);
  });

  it('builds the whole catalog once, in order, for what lists it', () => {
    const { registry, built } = loadWith();
    expect(registry.wholeCatalog().map((action) => action.name)).toEqual(registry.ACTION_NAMES);
    registry.wholeCatalog();
    expect(built).toEqual([...registry.ACTION_NAMES]);
  });

  it('refuses an entry whose module defines another action, when it is built', () => {
    const { registry } = loadWith((actual) => actual.map(([name, load]) => (name === 'refund' ? (['refunds', load] as const) : [name, load])));
    expect(() => registry.actionDefinition('refunds' as Registry.CatalogActionName)).toThrow('actions/index.ts registers refunds, but its module defines refund');
    expect(registry.actionDefinition('tier_upgrade').name).toBe('tier_upgrade');
  });

  it('refuses a name registered twice, at import', () => {
    expect(() => loadWith((actual) => [...actual, actual[0]])).toThrow('action purchase_order is registered twice');
  });
});
