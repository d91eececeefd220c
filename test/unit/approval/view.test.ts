import { decideTask, getTaskFor, listTasksFor, type PublicTask } from '../../../lambdas/shared/approval';
import { ListTasksQuery } from '../../../lambdas/shared/schemas/api';
import { useEmulatedStores } from '../../support/stores';
import {
  approvalDeps,
  failureOf,
  openTask,
  principal,
  REFUND_PROPOSAL,
  REQUESTER,
  uniqueRole,
} from './harness';

const stores = useEmulatedStores();

const LIST_ITEM_KEYS = [
  'action',
  'approvalToken',
  'approverRoles',
  'createdAt',
  'expiresAt',
  'reasons',
  'requestId',
  'requestedBy',
  'status',
  'summary',
  'taskId',
].sort();

const query = (raw: Record<string, unknown> = {}) => ListTasksQuery.parse(raw);

describe('listTasksFor', () => {
  it('lists only the pending tasks the caller may decide, as API.md list items', async () => {
    const role = uniqueRole();
    const approver = principal([role]);
    const visible = await openTask(stores(), { approverRoles: [role] });
    await openTask(stores(), { approverRoles: [uniqueRole()] }); // another tier's task
    await openTask(stores(), { approverRoles: [role], requestedBy: { sub: approver.sub, roles: [role] } }); // their own
    const decided = await openTask(stores(), { approverRoles: [role] });
    const { deps } = approvalDeps(stores());
    await decideTask(principal([role]), decided.taskId, { decision: 'approve', approvalToken: decided.task.approvalToken }, deps);

    const { tasks } = await listAll(approver, 50);

    expect(tasks.map((t) => t.taskId)).toEqual([visible.taskId]);
    expect(Object.keys(tasks[0]).sort()).toEqual(LIST_ITEM_KEYS);
    expect(tasks[0]).toEqual({
      taskId: visible.taskId,
      requestId: visible.state.requestId,
      action: 'purchase_order',
      status: 'PENDING',
      reasons: ['above_autonomous_limit'],
      summary: visible.task.summary,
      requestedBy: 'requester-1',
      createdAt: visible.task.createdAt,
      expiresAt: visible.task.expiresAt,
      approverRoles: [role],
      approvalToken: visible.task.approvalToken,
    });
    const body = JSON.stringify(tasks);
    expect(body).not.toContain(visible.taskToken);
    expect(body).not.toContain(visible.task.checkpointKey);
  });

  it('does not list a pending task past its deadline', async () => {
    const role = uniqueRole();
    await openTask(stores(), { approverRoles: [role], approvalTimeoutSeconds: 60 });
    stores().clock.advance(60_000);

    expect((await listAll(principal([role]), 50)).tasks).toEqual([]);
  });

  it('lists decided tasks when asked for their status', async () => {
    const role = uniqueRole();
    const task = await openTask(stores(), { approverRoles: [role] });
    const { deps } = approvalDeps(stores());
    await decideTask(principal([role]), task.taskId, { decision: 'reject', approvalToken: task.task.approvalToken }, deps);

    const rejected = await listAll(principal([role]), 50, 'REJECTED');
    expect(rejected.tasks.map((t) => [t.taskId, t.status])).toEqual([[task.taskId, 'REJECTED']]);
    expect((await listAll(principal([role]), 50)).tasks).toEqual([]);
  });

  it('fills a page past tasks the caller may not decide, and pages with limit 1 without skipping any', async () => {
    // Older than every other task in this file's table, so these are the index's first items.
    stores().clock.set('2001-01-01T00:00:00.000Z');
    const role = uniqueRole();
    const approver = principal([role]);
    const opened: string[] = [];
    for (const roles of [[uniqueRole()], [role], [uniqueRole()], [uniqueRole()], [role], [role]]) {
      const { taskId } = await openTask(stores(), { approverRoles: roles });
      if (roles[0] === role) opened.push(taskId);
      stores().clock.advance(1000);
    }
    const { deps } = approvalDeps(stores());

    // The first visible task sits behind an invisible one: the page is still full.
    const first = await listTasksFor(approver, query({ limit: 1 }), deps);
    expect(first.tasks.map((t) => t.taskId)).toEqual([opened[0]]);
    expect(first.nextToken).toBeDefined();

    const second = await listTasksFor(approver, query({ limit: 1, nextToken: first.nextToken }), deps);
    expect(second.tasks.map((t) => t.taskId)).toEqual([opened[1]]);

    const third = await listTasksFor(approver, query({ limit: 1, nextToken: second.nextToken }), deps);
    expect(third.tasks.map((t) => t.taskId)).toEqual([opened[2]]);

    // Whatever else the table holds, paging on from here finds none of the caller's tasks.
    expect((await listAll(approver, 1, 'PENDING', third.nextToken)).tasks).toEqual([]);
  });
});

describe('getTaskFor', () => {
  it('returns the list item plus the evidence, and never the task token or checkpoint key', async () => {
    const dryRun = {
      orderId: 'O-5001',
      customerId: 'C-1002',
      orderTotal: 450,
      alreadyRefunded: 0,
      refundAmount: 120,
      remainingAfterRefund: 330,
    };
    const opened = await openTask(stores(), {
      proposal: REFUND_PROPOSAL,
      approverRoles: ['support-lead'],
      decision: { reasons: ['high_risk_action'], dryRun },
    });
    const { deps } = approvalDeps(stores());

    const detail = await getTaskFor(principal(['support-lead']), opened.taskId, deps);

    const { evidence, ...item } = detail;
    expect(Object.keys(item).sort()).toEqual(LIST_ITEM_KEYS);
    expect(item).toMatchObject({ taskId: opened.taskId, status: 'PENDING', approvalToken: opened.task.approvalToken });
    expect(evidence).toEqual({
      proposal: REFUND_PROPOSAL,
      decision: opened.state.decision,
      tier: 'support-lead',
      confidence: 0.97,
      model: opened.state.inference?.model,
      triageReason: 'free text, one action, low complexity',
      dryRun,
    });
    const body = JSON.stringify(detail);
    expect(body).not.toContain(opened.taskToken);
    expect(body).not.toContain(opened.task.checkpointKey);
    expect(body).not.toContain('taskToken');
    expect(body).not.toContain('checkpointKey');
  });

  it('answers 404 alike for a malformed id, an unknown task, another tier and the requester', async () => {
    const opened = await openTask(stores());
    const { deps } = approvalDeps(stores());
    const cases = [
      getTaskFor(principal(['procurement-manager']), '../etc/passwd', deps),
      getTaskFor(principal(['procurement-manager']), 't_unknown', deps),
      getTaskFor(principal(['finance-director']), opened.taskId, deps),
      getTaskFor({ sub: REQUESTER.sub, roles: ['procurement-manager'] }, opened.taskId, deps),
    ];
    for (const error of await Promise.all(cases.map(failureOf))) {
      expect(error).toMatchObject({ status: 404, code: 'not_found', message: 'No such task.' });
    }
  });
});

/** Follows nextToken to the end, as a client would. */
async function listAll(
  caller: ReturnType<typeof principal>,
  limit: number,
  status: PublicTask['status'] = 'PENDING',
  nextToken?: string,
): Promise<{ tasks: PublicTask[] }> {
  const { deps } = approvalDeps(stores());
  const tasks: PublicTask[] = [];
  let cursor = nextToken;
  do {
    const page = await listTasksFor(caller, query({ status, limit, ...(cursor ? { nextToken: cursor } : {}) }), deps);
    expect(page.tasks.length).toBeLessThanOrEqual(limit);
    tasks.push(...page.tasks);
    cursor = page.nextToken;
  } while (cursor);
  return { tasks };
}
