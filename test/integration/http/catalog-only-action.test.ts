import { catalogSeed, seedItems } from '../../../lambdas/shared/adapters/aws/seed';
import { wholeCatalog } from '../../../lambdas/shared/catalog/registry';
import { reasonCodes } from '../../../lambdas/shared/policy';
import { expectProblem, useTestServer, type Json } from '../../support/http-client';

/**
 * A team's own action, added as a catalog folder only (test/fixtures/actions/parking_permit):
 * registered here beside the shipped actions the way `actions/index.ts` would list it, with its
 * Cedar files in the same folder layout. No core module knows it, yet local mode seeds its
 * records, the policy gives its own reason codes, the approver sees its dry run, and its builtin
 * effect runs once.
 */
jest.mock('../../../actions', () => {
  const fs = jest.requireActual<typeof import('node:fs')>('node:fs');
  const os = jest.requireActual<typeof import('node:os')>('node:os');
  const path = jest.requireActual<typeof import('node:path')>('node:path');
  const actual = jest.requireActual<typeof import('../../../actions')>('../../../actions');
  const { parkingPermit } = jest.requireActual<typeof import('../../fixtures/actions/parking_permit/action')>('../../fixtures/actions/parking_permit/action');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'warden-catalog-'));
  for (const [name] of actual.ACTION_CATALOG) fs.symlinkSync(path.join(actual.actionsDir(), name), path.join(dir, name));
  fs.symlinkSync(path.join(__dirname, '../../fixtures/actions/parking_permit'), path.join(dir, parkingPermit.name));
  return { ...actual, ACTION_CATALOG: [...actual.ACTION_CATALOG, [parkingPermit.name, () => parkingPermit]], actionsDir: () => dir };
});

const employee = { sub: 'pp-erin', roles: ['employee'] };
const facilities = { sub: 'pp-fay', roles: ['facilities-manager'] };
const agent = { sub: 'pp-sam', roles: ['support-agent'] };

// In-process: the handlers must see the catalog this file's jest.mock adds to (jest's modules are this thread's).
const { client } = useTestServer({ functions: 'in-process' });

const permit = (employeeId: string, zone = 'north') => ({ text: 'Parking permit please', action: 'parking_permit', fields: { employeeId, zone, reason: 'new starter on site' } });

describe('an action added as a catalog folder only', () => {
  it('is registered, with its reason codes among the known ones and its records in the seed', () => {
    const shipped = jest.requireActual<typeof import('../../../actions')>('../../../actions').ACTION_CATALOG.map(([name]) => name);
    expect(wholeCatalog().map((action) => action.name)).toEqual([...shipped, 'parking_permit']);
    expect(reasonCodes()).toEqual(expect.arrayContaining(['employee_not_found', 'permit_limit_reached', 'refund_exceeds_order', 'duplicate_proposal']));
    expect(seedItems()).toEqual(
      expect.arrayContaining([
        { pk: 'EMPLOYEE#E-7001', sk: 'META', employeeId: 'E-7001', permits: 0 },
        { pk: 'EMPLOYEE#E-7002', sk: 'META', employeeId: 'E-7002', permits: 2 },
        expect.objectContaining({ pk: 'ORDER#O-5001' }),
      ]),
    );
    expect(catalogSeed().records?.map((record) => `${record.type}#${record.id}`)).toEqual(expect.arrayContaining(['ORDER#O-5001', 'ORDER#O-5002', 'EMPLOYEE#E-7001', 'EMPLOYEE#E-7002']));
    expect(catalogSeed().records?.slice(-2).map((record) => `${record.type}#${record.id}`)).toEqual(['EMPLOYEE#E-7001', 'EMPLOYEE#E-7002']);
  });

  it('only its requesters may ask: 403 action_not_permitted for others', async () => {
    expectProblem(await client.submit(agent, permit('E-7001')), 403, 'action_not_permitted');
  });

  it.each([
    ['an employee not on file', 'E-9999', 'employee_not_found'],
    ['an employee at the permit limit (a seed record of the action)', 'E-7002', 'permit_limit_reached'],
  ])('%s is REJECTED with its own reason code', async (_case, employeeId, reason) => {
    const requestId = await client.submitOk(employee, permit(employeeId));
    const done = await client.waitForStatus(employee, requestId, 'REJECTED');
    expect(done).toMatchObject({ status: 'REJECTED', action: 'parking_permit', decision: { outcome: 'rejected', reasons: [reason], policy: { id: 'parking-permit', version: '2026-12-01' } } });
    expect(done.result).toBeUndefined();
  });

  it('waits for its approver with its dry run as evidence; approved, its builtin effect COMPLETES and writes what the next request reads', async () => {
    const requestId = await client.submitOk(employee, permit('E-7001', 'south'));
    const pending = await client.waitForStatus(employee, requestId, 'PENDING_APPROVAL');
    expect(pending).toMatchObject({ decision: { outcome: 'pending_approval', reasons: ['high_risk_action'] } });

    const listed = await client.waitForTask(facilities, requestId);
    expect(listed).toMatchObject({ action: 'parking_permit', reasons: ['high_risk_action'], approverRoles: ['facilities-manager'], summary: { employeeId: 'E-7001', zone: 'south' } });
    const detail = await client.getTask(facilities, listed.taskId);
    expect(detail.status).toBe(200);
    expect(detail.body.evidence).toMatchObject({
      tier: 'facilities-manager',
      proposal: { action: 'parking_permit', fields: { employeeId: 'E-7001', zone: 'south' } },
      dryRun: { employeeId: 'E-7001', zone: 'south', permitsBefore: 0, permitsAfter: 1 },
    });

    expect((await client.decide(facilities, listed.taskId, { decision: 'approve', approvalToken: listed.approvalToken })).status).toBe(200);
    const done = await client.waitForStatus(employee, requestId, 'COMPLETED');
    const receipt = done.result as Json;
    expect(receipt).toEqual({ permitId: expect.stringMatching(/^PP-[0-9A-F]{10}$/), employeeId: 'E-7001', zone: 'south' });

    // The effect wrote to the system of record that the next request's facts read.
    const next = await client.submitOk(employee, permit('E-7001'));
    const again = await client.waitForTask(facilities, next);
    expect((await client.getTask(facilities, again.taskId)).body.evidence).toMatchObject({ dryRun: { permitsBefore: 1, permitsAfter: 2 } });
  });
});
