import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { Conflict, InvalidInput } from '../../../lambdas/shared/errors';
import { newApprovalToken } from '../../../lambdas/shared/ids';
import { aPendingTask } from '../../support/fixtures';
import { useEmulatedStores } from '../../support/stores';

const stores = useEmulatedStores();

function decide(taskId: string, approvalToken: string, decidedBy = 'approver-1') {
  return stores().tasks.consumeApprovalToken({
    taskId,
    approvalToken,
    status: 'APPROVED',
    decidedBy,
    decidedAt: new Date().toISOString(),
    comment: 'looks right',
  });
}

async function rawItem(taskId: string) {
  const { Item } = await stores().doc.send(
    new GetCommand({ TableName: stores().emulators.tableNames.tasks, Key: { taskId }, ConsistentRead: true }),
  );
  return Item;
}

describe('DynamoTaskIndex.putPending / get', () => {
  it('writes a pending task and reads it back', async () => {
    const task = aPendingTask();
    await stores().tasks.putPending(task);
    expect(await stores().tasks.get(task.taskId)).toEqual(task);
  });

  it('lets a retried dehydrate replace a task that is still pending', async () => {
    const task = aPendingTask();
    await stores().tasks.putPending(task);
    await stores().tasks.putPending({ ...task, taskToken: 'newer-token' });
    expect((await stores().tasks.get(task.taskId))?.taskToken).toBe('newer-token');
  });

  it('never overwrites a decided task', async () => {
    const task = aPendingTask();
    await stores().tasks.putPending(task);
    expect(await decide(task.taskId, task.approvalToken)).toMatchObject({ status: 'APPROVED' });
    await expect(stores().tasks.putPending({ ...task, taskToken: 'newer-token' })).rejects.toBeInstanceOf(Conflict);
    expect(await stores().tasks.get(task.taskId)).toMatchObject({ status: 'APPROVED', taskToken: task.taskToken });
  });

  it('rejects invalid ids and non-pending tasks; unknown or invalid ids read as undefined', async () => {
    await expect(stores().tasks.putPending(aPendingTask({ taskId: '../x' }))).rejects.toBeInstanceOf(InvalidInput);
    await expect(stores().tasks.putPending(aPendingTask({ status: 'APPROVED' }))).rejects.toBeInstanceOf(InvalidInput);
    expect(await stores().tasks.get('t_unknown')).toBeUndefined();
    expect(await stores().tasks.get('a/b')).toBeUndefined();
  });
});

describe('DynamoTaskIndex.listByStatus', () => {
  it('pages oldest first with limit 1 and a cursor that round-trips', async () => {
    // Older than anything else in this table, so they are the first three pages.
    const tasks = ['2000-01-01T00:00:03.000Z', '2000-01-01T00:00:01.000Z', '2000-01-01T00:00:02.000Z'].map((createdAt) =>
      aPendingTask({ createdAt }),
    );
    for (const task of tasks) await stores().tasks.putPending(task);
    const expectedOrder = [tasks[1]!.taskId, tasks[2]!.taskId, tasks[0]!.taskId];

    const seen: string[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < 3; page++) {
      const result = await stores().tasks.listByStatus('PENDING', 1, cursor);
      expect(result.tasks).toHaveLength(1);
      expect(result.nextToken).toMatch(/^[A-Za-z0-9_-]+$/);
      seen.push(result.tasks[0]!.taskId);
      cursor = result.nextToken;
    }
    expect(seen).toEqual(expectedOrder);

    // The same cursor gives the same next page (it is a position, not a session).
    const again = await stores().tasks.listByStatus('PENDING', 1, cursor);
    const againToo = await stores().tasks.listByStatus('PENDING', 1, cursor);
    expect(againToo.tasks.map((t) => t.taskId)).toEqual(again.tasks.map((t) => t.taskId));
    expect(again.tasks.map((t) => t.taskId)).not.toContain(expectedOrder[2]);
  });

  it('ends without a nextToken and lists only the asked status', async () => {
    const decided = aPendingTask({ createdAt: '2001-01-01T00:00:00.000Z' });
    await stores().tasks.putPending(decided);
    await decide(decided.taskId, decided.approvalToken);

    const all: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await stores().tasks.listByStatus('APPROVED', 100, cursor);
      all.push(...page.tasks.map((t) => t.taskId));
      expect(page.tasks.every((t) => t.status === 'APPROVED')).toBe(true);
      cursor = page.nextToken;
    } while (cursor);
    expect(all).toContain(decided.taskId);
  });

  it.each([
    ['not base64url', '!!!'],
    ['base64url of non-JSON', Buffer.from('not json').toString('base64url')],
    ['JSON of the wrong shape', Buffer.from(JSON.stringify({ taskId: 't_1' })).toString('base64url')],
    [
      'a key with extra attributes',
      Buffer.from(JSON.stringify({ taskId: 't_1', status: 'PENDING', createdAt: 'x', extra: 1 })).toString('base64url'),
    ],
    ['a hostile taskId', Buffer.from(JSON.stringify({ taskId: '../x', status: 'PENDING', createdAt: 'x' })).toString('base64url')],
    [
      "another status's cursor",
      Buffer.from(JSON.stringify({ taskId: 't_1', status: 'APPROVED', createdAt: 'x' })).toString('base64url'),
    ],
  ])('rejects a garbage cursor (%s) with 400 invalid_next_token', async (_what, cursor) => {
    const listing = stores().tasks.listByStatus('PENDING', 1, cursor);
    await expect(listing).rejects.toBeInstanceOf(InvalidInput);
    await expect(listing).rejects.toMatchObject({ status: 400, code: 'invalid_next_token' });
  });

  it('rejects a limit outside 1..100', async () => {
    await expect(stores().tasks.listByStatus('PENDING', 0)).rejects.toMatchObject({ status: 400 });
    await expect(stores().tasks.listByStatus('PENDING', 101)).rejects.toMatchObject({ status: 400 });
  });
});

describe('DynamoTaskIndex.consumeApprovalToken', () => {
  it('refuses a wrong token, accepts the right one once, then refuses the replay', async () => {
    const task = aPendingTask();
    await stores().tasks.putPending(task);

    expect(await decide(task.taskId, newApprovalToken())).toBeUndefined();
    expect((await stores().tasks.get(task.taskId))?.status).toBe('PENDING');

    const decided = await decide(task.taskId, task.approvalToken);
    // The task as it is now comes back with the write.
    expect(decided).toEqual(await stores().tasks.get(task.taskId));
    expect(decided).toMatchObject({
      status: 'APPROVED',
      decidedBy: 'approver-1',
      comment: 'looks right',
    });

    expect(await decide(task.taskId, task.approvalToken, 'approver-2')).toBeUndefined();
    expect((await stores().tasks.get(task.taskId))?.decidedBy).toBe('approver-1');
  });

  it('lets exactly one of 10 concurrent consumers win', async () => {
    const task = aPendingTask();
    await stores().tasks.putPending(task);
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) => decide(task.taskId, task.approvalToken, `approver-${i}`)),
    );
    expect(results.filter(Boolean)).toHaveLength(1);
    const winner = `approver-${results.findIndex((result) => result !== undefined)}`;
    expect((await stores().tasks.get(task.taskId))?.decidedBy).toBe(winner);
  });

  it('refuses the right token after the deadline', async () => {
    const task = aPendingTask({ expiresAt: new Date(Date.now() + 60_000).toISOString() });
    await stores().tasks.putPending(task);
    stores().clock.advance(61_000);
    expect(await decide(task.taskId, task.approvalToken)).toBeUndefined();
    expect((await stores().tasks.get(task.taskId))?.status).toBe('PENDING');
  });

  it('returns nothing for unknown and invalid task ids without creating anything', async () => {
    expect(await decide('t_unknown', 'token')).toBeUndefined();
    expect(await decide('../x', 'token')).toBeUndefined();
    expect(await rawItem('t_unknown')).toBeUndefined();
  });

  it('records a decision without a comment', async () => {
    const task = aPendingTask();
    await stores().tasks.putPending(task);
    const ok = await stores().tasks.consumeApprovalToken({
      taskId: task.taskId,
      approvalToken: task.approvalToken,
      status: 'REJECTED',
      decidedBy: 'approver-1',
      decidedAt: '2026-01-01T00:00:00.000Z',
    });
    const stored = await stores().tasks.get(task.taskId);
    expect(ok).toEqual(stored);
    expect(stored).toMatchObject({ status: 'REJECTED', decidedAt: '2026-01-01T00:00:00.000Z' });
    expect(stored).not.toHaveProperty('comment');
  });
});

describe('DynamoTaskIndex.releaseDecision', () => {
  it('puts the task back to PENDING so the same token can decide again', async () => {
    const task = aPendingTask();
    await stores().tasks.putPending(task);
    expect(await decide(task.taskId, task.approvalToken)).toMatchObject({ status: 'APPROVED' });

    await stores().tasks.releaseDecision(task.taskId, 'approver-1');
    const released = await rawItem(task.taskId);
    expect(released).toMatchObject({ status: 'PENDING' });
    expect(released).not.toHaveProperty('decidedBy');
    expect(released).not.toHaveProperty('decidedAt');
    expect(released).not.toHaveProperty('comment');

    expect(await decide(task.taskId, task.approvalToken, 'approver-2')).toMatchObject({ status: 'APPROVED' });
  });

  it("does not undo another approver's decision", async () => {
    const task = aPendingTask();
    await stores().tasks.putPending(task);
    expect(await decide(task.taskId, task.approvalToken, 'approver-1')).toMatchObject({ status: 'APPROVED' });
    await stores().tasks.releaseDecision(task.taskId, 'approver-2');
    expect(await stores().tasks.get(task.taskId)).toMatchObject({ status: 'APPROVED', decidedBy: 'approver-1' });
  });

  it('is a no-op on a pending or unknown task', async () => {
    const task = aPendingTask();
    await stores().tasks.putPending(task);
    await stores().tasks.releaseDecision(task.taskId, 'approver-1');
    await stores().tasks.releaseDecision('t_unknown', 'approver-1');
    expect(await stores().tasks.get(task.taskId)).toEqual(task);
    expect(await rawItem('t_unknown')).toBeUndefined();
  });
});

describe('DynamoTaskIndex.markExpired', () => {
  it('expires a pending task, idempotently, and then refuses its token', async () => {
    const chain = { seq: 4, hash: 'a'.repeat(64) };
    const task = aPendingTask({ chain });
    await stores().tasks.putPending(task);
    // The one call that expires it says where the chain ended when the task opened; a repeat expires nothing.
    expect(await stores().tasks.markExpired(task.taskId)).toMatchObject({ taskId: task.taskId, status: 'EXPIRED', chain });
    expect(await stores().tasks.markExpired(task.taskId)).toBeUndefined();
    expect((await stores().tasks.get(task.taskId))?.status).toBe('EXPIRED');
    expect(await decide(task.taskId, task.approvalToken)).toBeUndefined();
  });

  it('leaves a decided task and an unknown id alone', async () => {
    const task = aPendingTask();
    await stores().tasks.putPending(task);
    await decide(task.taskId, task.approvalToken);
    expect(await stores().tasks.markExpired(task.taskId)).toBeUndefined();
    expect(await stores().tasks.markExpired('t_never')).toBeUndefined();
    expect((await stores().tasks.get(task.taskId))?.status).toBe('APPROVED');
    expect(await rawItem('t_never')).toBeUndefined();
  });
});
