import { decideTask } from '../../../lambdas/shared/approval';
import { DynamoAuditLog } from '../../../lambdas/shared/adapters/aws/auditLog';
import { AuditWriteFailed, Gone, OrchestratorUnavailable, type WardenError } from '../../../lambdas/shared/errors';
import type { WorkflowState } from '../../../lambdas/shared/schemas/workflow';
import { finalizeStep } from '../../../lambdas/shared/workflow/steps';
import { useEmulatedStores, type EmulatedStores } from '../../support/stores';
import { approvalDeps, failureOf, openTask, principal, REQUESTER, RecordingOrchestrator, type OpenedTask } from './harness';

const stores = useEmulatedStores();

const approve = (opened: OpenedTask, comment?: string) => ({
  decision: 'approve' as const,
  approvalToken: opened.task.approvalToken,
  ...(comment !== undefined ? { comment } : {}),
});

/** No error a caller sees may carry a token (API.md: error bodies never echo tokens). */
function expectNoTokens(error: WardenError, opened: OpenedTask): void {
  const visible = JSON.stringify({ message: error.message, code: error.code, name: error.name });
  expect(visible).not.toContain(opened.task.approvalToken);
  expect(visible).not.toContain(opened.taskToken);
}

describe('decideTask', () => {
  it('approves: the workflow resumes with the decision, and the task, request and audit record it', async () => {
    const opened = await openTask(stores());
    const { deps, orchestrator } = approvalDeps(stores());
    const approver = principal(['procurement-manager', 'auditor']);
    stores().clock.advance(5 * 60_000);
    const decidedAt = stores().clock.now().toISOString();

    const result = await decideTask(approver, opened.taskId, approve(opened, 'budget confirmed'), deps);

    expect(result).toEqual({
      taskId: opened.taskId,
      requestId: opened.state.requestId,
      status: 'APPROVED',
      decidedBy: approver.sub,
      decidedAt,
    });
    expect(orchestrator.resumed).toHaveLength(1);
    const [{ taskToken, output }] = orchestrator.resumed;
    expect(taskToken).toBe(opened.taskToken);
    // The rehydrated state: everything the workflow had, plus the human decision.
    expect(output).toEqual({
      ...opened.state,
      approval: { taskId: opened.taskId, status: 'APPROVED', decidedBy: approver.sub, decidedAt, comment: 'budget confirmed' },
      // Where the chain now ends (the decision's entry): Execute appends after it with no read.
      audit: { seq: 2, hash: expect.stringMatching(/^[0-9a-f]{64}$/) },
    });

    expect(await stores().tasks.get(opened.taskId)).toMatchObject({
      status: 'APPROVED',
      decidedBy: approver.sub,
      decidedAt,
      comment: 'budget confirmed',
    });
    expect(await stores().requests.get(opened.state.requestId)).toMatchObject({
      status: 'RUNNING',
      approval: { taskId: opened.taskId, status: 'APPROVED', decidedBy: approver.sub, decidedAt, comment: 'budget confirmed' },
    });
    const entries = await stores().audit.list(opened.state.requestId);
    expect(entries.map((e) => e.event)).toEqual(['approval.requested', 'approval.decided']);
    expect(entries[1]).toMatchObject({
      step: 'Approval',
      actor: { type: 'human', id: approver.sub },
      data: { taskId: opened.taskId, decision: 'APPROVED', comment: 'budget confirmed' },
    });
    expect(JSON.stringify(entries)).not.toContain(opened.task.approvalToken);
  });

  it('rejects: the workflow resumes with REJECTED', async () => {
    const opened = await openTask(stores());
    const { deps, orchestrator } = approvalDeps(stores());
    const approver = principal(['procurement-manager']);

    const result = await decideTask(approver, opened.taskId, { decision: 'reject', approvalToken: opened.task.approvalToken }, deps);

    expect(result).toMatchObject({ status: 'REJECTED', decidedBy: approver.sub });
    expect(orchestrator.resumed.map((r) => r.output.approval)).toEqual([
      { taskId: opened.taskId, status: 'REJECTED', decidedBy: approver.sub, decidedAt: result.decidedAt },
    ]);
    expect(await stores().tasks.get(opened.taskId)).toMatchObject({ status: 'REJECTED', decidedBy: approver.sub });
    expect(await stores().requests.get(opened.state.requestId)).toMatchObject({
      status: 'RUNNING',
      approval: { status: 'REJECTED', decidedBy: approver.sub },
    });
    const entries = await stores().audit.list(opened.state.requestId);
    expect(entries.at(-1)).toMatchObject({ event: 'approval.decided', data: { decision: 'REJECTED' } });
    expect(entries.at(-1)?.data).not.toHaveProperty('comment');
  });

  it.each([
    ['a role without approval authority', principal(['support-agent', 'auditor']), 'not_authorized_approver'],
    ['another tier (a procurement-manager on a finance-director task)', principal(['procurement-manager']), 'not_authorized_approver'],
    ['the requester, even holding the role', { sub: REQUESTER.sub, roles: ['finance-director'] }, 'self_approval_forbidden'],
  ])('forbids %s with 403 and leaves the task pending', async (_, caller, code) => {
    const opened = await openTask(stores(), {
      proposal: { action: 'purchase_order', fields: { vendor: 'Initech', amount: 75_000, currency: 'USD', description: 'servers' } },
      approverRoles: ['finance-director'],
    });
    const { deps, orchestrator } = approvalDeps(stores());

    const error = await failureOf(decideTask(caller, opened.taskId, approve(opened), deps));

    expect(error).toMatchObject({ status: 403, code });
    expectNoTokens(error, opened);
    expect(orchestrator.resumed).toEqual([]);
    // The right token in the wrong hands: nothing was written, the task is pending as it was.
    const task = await stores().tasks.get(opened.taskId);
    expect(task).toMatchObject({ status: 'PENDING', approvalToken: opened.task.approvalToken });
    expect(task).not.toHaveProperty('decidedBy');
    expect(task).not.toHaveProperty('decidedAt');
    expect((await stores().requests.get(opened.state.requestId))?.status).toBe('PENDING_APPROVAL');
    expect((await stores().audit.list(opened.state.requestId)).map((e) => e.event)).not.toContain('approval.decided');
    // And the same token still decides it for an approver who may.
    await expect(decideTask(principal(['finance-director']), opened.taskId, approve(opened), deps)).resolves.toMatchObject({ status: 'APPROVED' });
    expect(orchestrator.resumed).toHaveLength(1);
  });

  it('decides the task of a request id from another producer (no r_ prefix): its task is read first, for its checkpoint', async () => {
    const opened = await openTask(stores(), { requestId: `ext-${Date.now().toString(36)}` });
    expect(opened.taskId).toBe(`t_${opened.state.requestId}`);
    const { deps, orchestrator } = approvalDeps(stores());

    await expect(decideTask(principal(['procurement-manager']), opened.taskId, approve(opened), deps)).resolves.toMatchObject({ status: 'APPROVED' });

    expect(orchestrator.resumed).toHaveLength(1);
    expect((await stores().requests.get(opened.state.requestId))?.status).toBe('RUNNING');
    // And a caller without the role is refused there too, before anything is written.
    const other = await openTask(stores(), { requestId: `ext2-${Date.now().toString(36)}` });
    await expect(decideTask(principal(['support-agent']), other.taskId, approve(other), deps)).rejects.toMatchObject({ status: 403, code: 'not_authorized_approver' });
    expect(await stores().tasks.get(other.taskId)).toMatchObject({ status: 'PENDING' });
  });

  it('answers 404 for a malformed or unknown task id', async () => {
    const { deps } = approvalDeps(stores());
    const body = { decision: 'approve' as const, approvalToken: 'x' };
    for (const taskId of ['../../checkpoints', 't_unknown']) {
      expect(await failureOf(decideTask(principal(['procurement-manager']), taskId, body, deps))).toMatchObject({
        status: 404,
        code: 'not_found',
      });
    }
  });

  it('refuses a wrong approval token with 409 approval_token_mismatch', async () => {
    const opened = await openTask(stores());
    const { deps, orchestrator } = approvalDeps(stores());

    const error = await failureOf(
      decideTask(principal(['procurement-manager']), opened.taskId, { decision: 'approve', approvalToken: `${opened.task.approvalToken}x` }, deps),
    );

    expect(error).toMatchObject({ status: 409, code: 'approval_token_mismatch' });
    expectNoTokens(error, opened);
    expect(orchestrator.resumed).toEqual([]);
    expect(await stores().tasks.get(opened.taskId)).toMatchObject({ status: 'PENDING' });
  });

  it('refuses a replay with 409 task_already_decided and resumes only once', async () => {
    const opened = await openTask(stores());
    const { deps, orchestrator } = approvalDeps(stores());
    const approver = principal(['procurement-manager']);
    await decideTask(approver, opened.taskId, approve(opened), deps);

    const replay = await failureOf(decideTask(approver, opened.taskId, approve(opened), deps));
    const other = await failureOf(
      decideTask(principal(['procurement-manager']), opened.taskId, { decision: 'reject', approvalToken: opened.task.approvalToken }, deps),
    );

    for (const error of [replay, other]) {
      expect(error).toMatchObject({ status: 409, code: 'task_already_decided' });
      expectNoTokens(error, opened);
    }
    expect(orchestrator.resumed).toHaveLength(1);
    expect(await stores().tasks.get(opened.taskId)).toMatchObject({ status: 'APPROVED', decidedBy: approver.sub });
  });

  it('of two concurrent decisions lets exactly one win; the other gets 409', async () => {
    const opened = await openTask(stores());
    const { deps, orchestrator } = approvalDeps(stores());
    const alice = principal(['procurement-manager']);
    const bob = principal(['procurement-manager']);

    const outcomes = await Promise.allSettled([
      decideTask(alice, opened.taskId, approve(opened), deps),
      decideTask(bob, opened.taskId, { decision: 'reject', approvalToken: opened.task.approvalToken }, deps),
    ]);

    const won = outcomes.filter((o) => o.status === 'fulfilled');
    const lost = outcomes.filter((o) => o.status === 'rejected');
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(1);
    expect(lost[0].reason).toMatchObject({ status: 409, code: 'task_already_decided' });
    const winner = won[0].value;
    expect(orchestrator.resumed).toHaveLength(1);
    expect(orchestrator.resumed[0].output.approval).toMatchObject({ status: winner.status, decidedBy: winner.decidedBy });
    expect(await stores().tasks.get(opened.taskId)).toMatchObject({ status: winner.status, decidedBy: winner.decidedBy });
    const decided = (await stores().audit.list(opened.state.requestId)).filter((e) => e.event === 'approval.decided');
    expect(decided).toHaveLength(1);
  });

  it('answers 410 task_expired after the deadline and marks the task EXPIRED', async () => {
    const opened = await openTask(stores(), { approvalTimeoutSeconds: 600 });
    const { deps, orchestrator } = approvalDeps(stores());
    const approver = principal(['procurement-manager']);
    stores().clock.advance(600_000);

    const error = await failureOf(decideTask(approver, opened.taskId, approve(opened), deps));

    expect(error).toMatchObject({ status: 410, code: 'task_expired' });
    expectNoTokens(error, opened);
    expect(orchestrator.resumed).toEqual([]);
    expect(await stores().tasks.get(opened.taskId)).toMatchObject({ status: 'EXPIRED' });
    // Still gone on a second try (now from the stored status).
    expect(await failureOf(decideTask(approver, opened.taskId, approve(opened), deps))).toMatchObject({ status: 410 });
  });

  it('answers 410 when the workflow no longer waits, and expires the task instead of deciding it', async () => {
    const opened = await openTask(stores());
    const { deps, orchestrator } = approvalDeps(stores());
    orchestrator.timeOut(opened.taskToken);

    const error = await failureOf(decideTask(principal(['procurement-manager']), opened.taskId, approve(opened), deps));

    expect(error).toBeInstanceOf(Gone);
    expect(error).toMatchObject({ status: 410, code: 'task_expired' });
    expectNoTokens(error, opened);
    expect(await stores().tasks.get(opened.taskId)).toMatchObject({ status: 'EXPIRED' });
    expect(await stores().tasks.get(opened.taskId)).not.toHaveProperty('decidedBy');
    expect(await stores().requests.get(opened.state.requestId)).toMatchObject({
      status: 'PENDING_APPROVAL',
      approval: { taskId: opened.taskId, status: 'EXPIRED' },
    });
    const events = (await stores().audit.list(opened.state.requestId)).map((e) => e.event);
    expect(events).toEqual(['approval.requested', 'approval.decided', 'approval.expired']);
  });

  it('puts the task back when the decision cannot be delivered, so the same approver can retry', async () => {
    const opened = await openTask(stores());
    const { deps, orchestrator } = approvalDeps(stores());
    const approver = principal(['procurement-manager']);
    orchestrator.failNextResume(new OrchestratorUnavailable('SendTaskSuccess failed (ServiceUnavailable); retry later.'));

    const error = await failureOf(decideTask(approver, opened.taskId, approve(opened), deps));

    expect(error).toBeInstanceOf(OrchestratorUnavailable);
    expect(error).toMatchObject({ status: 503 });
    const released = await stores().tasks.get(opened.taskId);
    expect(released).toMatchObject({ status: 'PENDING', approvalToken: opened.task.approvalToken });
    expect(released).not.toHaveProperty('decidedBy');
    expect(await stores().requests.get(opened.state.requestId)).toMatchObject({
      status: 'PENDING_APPROVAL',
      approval: { taskId: opened.taskId, status: 'PENDING' },
    });
    expect(orchestrator.resumed).toEqual([]);

    const retried = await decideTask(approver, opened.taskId, approve(opened), deps);

    expect(retried).toMatchObject({ status: 'APPROVED', decidedBy: approver.sub });
    expect(orchestrator.resumed).toHaveLength(1);
    expect(orchestrator.resumed[0].output.approval).toMatchObject({ status: 'APPROVED', decidedBy: approver.sub });
    expect(await stores().tasks.get(opened.taskId)).toMatchObject({ status: 'APPROVED' });
    expect(await stores().requests.get(opened.state.requestId)).toMatchObject({ status: 'RUNNING', approval: { status: 'APPROVED' } });
    const events = (await stores().audit.list(opened.state.requestId)).map((e) => e.event);
    expect(events).toEqual(['approval.requested', 'approval.decided', 'approval.released', 'approval.decided']);
  });

  it('an entry that cannot be signed after the request was claimed: the claim is undone and the task put back', async () => {
    const opened = await openTask(stores());
    const { deps, orchestrator } = approvalDeps(stores());
    const s = stores();
    deps.audit = new DynamoAuditLog(s.doc, s.emulators.tableNames.audit, { sign: async () => Promise.reject(new Error('kms unavailable')), verify: s.signer.verify });

    const error = await failureOf(decideTask(principal(['procurement-manager']), opened.taskId, approve(opened), deps));

    expect(error).toBeInstanceOf(AuditWriteFailed);
    expect(orchestrator.resumed).toEqual([]);
    expect(await s.requests.get(opened.state.requestId)).toMatchObject({ status: 'PENDING_APPROVAL', approval: { taskId: opened.taskId, status: 'PENDING' } });
    expect(await s.tasks.get(opened.taskId)).toMatchObject({ status: 'PENDING' });
    expect((await s.audit.list(opened.state.requestId)).map((e) => e.event)).toEqual(['approval.requested']);
  });

  it('a request still held by an earlier decision is a passing state: 503 to retry, the task not expired', async () => {
    const opened = await openTask(stores());
    const { deps, orchestrator } = approvalDeps(stores());
    const approver = principal(['procurement-manager']);
    // An earlier decision's undo could not put the request back (its write failed): RUNNING, not ended.
    await stores().requests.updateIf(opened.state.requestId, { status: 'RUNNING' }, ['PENDING_APPROVAL']);

    const error = await failureOf(decideTask(approver, opened.taskId, approve(opened), deps));

    expect(error).toBeInstanceOf(OrchestratorUnavailable);
    expect(error).toMatchObject({ status: 503 });
    expect(await stores().tasks.get(opened.taskId)).toMatchObject({ status: 'PENDING' });
    expect(orchestrator.resumed).toEqual([]);
    // The entry, signed while the claim was tried, was never written: the trail says nothing was decided.
    expect((await stores().audit.list(opened.state.requestId)).map((e) => e.event)).toEqual(['approval.requested']);

    // Once the request waits again, the same approver's retry goes through.
    await stores().requests.updateIf(opened.state.requestId, { status: 'PENDING_APPROVAL' }, ['RUNNING']);
    expect(await decideTask(approver, opened.taskId, approve(opened), deps)).toMatchObject({ status: 'APPROVED' });
    expect(orchestrator.resumed).toHaveLength(1);
  });

  /*
   * Red team finding 4: a decision the API still accepts (before the task's expiresAt) reaches a
   * workflow whose wait has timed out. Finalize writes EXPIRED; nothing the decision writes may
   * stand over it, and the trail must end with request.finalized EXPIRED.
   */
  describe('when the wait times out around the decision', () => {
    /** What Step Functions does when the wait's TimeoutSeconds elapse: Finalize with States.Timeout. */
    const timeOutWorkflow = (opened: OpenedTask) =>
      finalizeStep(
        { ...opened.state, error: { Error: 'States.Timeout', Cause: 'wait timed out' } } as WorkflowState,
        { requests: stores().requests, tasks: stores().tasks, audit: stores().audit },
        { failurePath: false },
      );

    async function expectEndedExpired(s: EmulatedStores, opened: OpenedTask): Promise<string[]> {
      expect(await s.requests.get(opened.state.requestId)).toMatchObject({
        status: 'EXPIRED',
        approval: { taskId: opened.taskId, status: 'EXPIRED' },
      });
      expect(await s.tasks.get(opened.taskId)).toMatchObject({ status: 'EXPIRED' });
      const entries = await s.audit.list(opened.state.requestId);
      expect(entries.at(-1)).toMatchObject({ event: 'request.finalized', data: { status: 'EXPIRED' } });
      return entries.map((e) => `${e.event}${e.data.decision ? ` ${String(e.data.decision)}` : ''}`);
    }

    it('Finalize ends the request after the token is consumed, before the decision is written: 410, nothing over EXPIRED or after request.finalized', async () => {
      const opened = await openTask(stores());
      const { deps, orchestrator } = approvalDeps(stores());
      // The reported interleaving: the decision holds the task (so Finalize cannot expire it), then the timeout's Finalize runs.
      deps.states = {
        putCheckpoint: (...args) => stores().state.putCheckpoint(...args),
        getCheckpoint: async (key) => {
          await timeOutWorkflow(opened);
          orchestrator.timeOut(opened.taskToken);
          return stores().state.getCheckpoint(key);
        },
      };

      const error = await failureOf(decideTask(principal(['procurement-manager']), opened.taskId, approve(opened), deps));

      expect(error).toMatchObject({ status: 410, code: 'task_expired' });
      expect(orchestrator.resumed).toEqual([]);
      expect(await expectEndedExpired(stores(), opened)).toEqual(['approval.requested', 'request.finalized']);
      // And it stays gone.
      expect(await failureOf(decideTask(principal(['procurement-manager']), opened.taskId, approve(opened), deps))).toMatchObject({ status: 410 });
    });

    it('while the decision is on its way (Finalize runs before the resume): EXPIRED stands, request.finalized stays last', async () => {
      const opened = await openTask(stores());
      const orchestrator = new RecordingOrchestrator();
      orchestrator.resume = async () => {
        await timeOutWorkflow(opened);
        throw new Gone('task_expired', 'The approval task has expired or is already closed.');
      };
      const { deps } = approvalDeps(stores(), orchestrator);

      const error = await failureOf(decideTask(principal(['procurement-manager']), opened.taskId, approve(opened), deps));

      expect(error).toMatchObject({ status: 410, code: 'task_expired' });
      expect(await expectEndedExpired(stores(), opened)).toEqual(['approval.requested', 'approval.decided APPROVED', 'request.finalized']);
    });

    it('after a decision that was released (the chain moved past the task\'s), Finalize still appends at the end: one chain, verified', async () => {
      const opened = await openTask(stores());
      const { deps, orchestrator } = approvalDeps(stores());
      orchestrator.failNextResume(new OrchestratorUnavailable('SendTaskSuccess failed (ServiceUnavailable); retry later.'));
      await failureOf(decideTask(principal(['procurement-manager']), opened.taskId, approve(opened), deps));
      // The task is pending again, still saying where the chain ended when it opened: two entries ago.
      expect(await stores().tasks.get(opened.taskId)).toMatchObject({ status: 'PENDING', chain: { seq: 1 } });

      await timeOutWorkflow(opened);

      expect(await expectEndedExpired(stores(), opened)).toEqual(['approval.requested', 'approval.decided APPROVED', 'approval.released APPROVED', 'request.finalized']);
      const record = await stores().requests.get(opened.state.requestId);
      const trail = await stores().audit.trail(opened.state.requestId, record?.auditHead);
      expect(trail).toMatchObject({ verified: true });
      expect(trail.entries.map((e) => e.seq)).toEqual([1, 2, 3, 4]);
    });

    it('when Finalize comes after the failed resume: the release is recorded first, and Finalize still ends it EXPIRED', async () => {
      const opened = await openTask(stores());
      const { deps, orchestrator } = approvalDeps(stores());
      orchestrator.timeOut(opened.taskToken);

      const error = await failureOf(decideTask(principal(['procurement-manager']), opened.taskId, approve(opened), deps));
      await timeOutWorkflow(opened);

      expect(error).toMatchObject({ status: 410, code: 'task_expired' });
      expect(await expectEndedExpired(stores(), opened)).toEqual([
        'approval.requested',
        'approval.decided APPROVED',
        'approval.expired APPROVED',
        'request.finalized',
      ]);
    });
  });
});
