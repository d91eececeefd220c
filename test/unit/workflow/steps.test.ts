import { taskIdFor } from '../../../lambdas/shared/ids';
import { executionStep, failureCode, finalizeStep, terminalStatus } from '../../../lambdas/shared/workflow/steps';
import type { WorkflowState } from '../../../lambdas/shared/schemas/workflow';
import { aPendingTask, aRequestRecord, aWorkflowState } from '../../support/fixtures';
import { useEmulatedStores } from '../../support/stores';

/** The last steps of the flow, against the real stores: what a request ends as, and what is kept. */

const stores = useEmulatedStores();
const policy = { id: 'purchase-order', version: 'test' };
const po = { action: 'purchase_order' as const, fields: { vendor: 'Initech', amount: 100, currency: 'USD', description: 'staplers' } };

describe('terminalStatus', () => {
  const base = aWorkflowState();
  it.each<[string, Partial<WorkflowState>, boolean, string]>([
    ['policy rejected', { decision: { outcome: 'rejected', reasons: ['amount_out_of_range'], policy } }, false, 'REJECTED'],
    ['human rejected', { decision: { outcome: 'pending_approval', reasons: [], policy }, approval: { taskId: 't_1', status: 'REJECTED' } }, false, 'REJECTED'],
    ['executed', { decision: { outcome: 'approved', reasons: [], policy }, result: { ok: true } }, false, 'COMPLETED'],
    ['approval wait timed out', { error: { Error: 'States.Timeout' } }, false, 'EXPIRED'],
    ['a step failed', { error: { Error: 'AuditWriteFailed' } }, true, 'FAILED'],
    ['a timeout reaching MarkFailed is a failure, not an expiry', { error: { Error: 'States.Timeout' } }, true, 'FAILED'],
    ['nothing executed and nothing decided', {}, false, 'FAILED'],
  ])('%s → %s', (_what, overrides, failurePath, expected) => {
    expect(terminalStatus({ ...base, ...overrides }, failurePath)).toBe(expected);
  });
});

describe('failureCode', () => {
  it('maps the error names the ASL catches to stable codes', () => {
    expect(failureCode('DuplicateEffect')).toBe('duplicate_proposal');
    expect(failureCode('AuditWriteFailed')).toBe('audit_write_failed');
    expect(failureCode('Lambda.ServiceException')).toBe('step_unavailable');
    expect(failureCode('TypeError')).toBe('step_failed');
  });
});

describe('finalizeStep', () => {
  it('marks an expired wait EXPIRED, expires the task, and audits it', async () => {
    const { requests, tasks, audit } = stores();
    const record = aRequestRecord({ status: 'PENDING_APPROVAL' });
    await requests.create(record);
    await tasks.putPending(aPendingTask({ requestId: record.requestId }));
    const state = aWorkflowState({ requestId: record.requestId, error: { Error: 'States.Timeout' } });

    await expect(finalizeStep(state, { requests, tasks, audit }, { failurePath: false })).resolves.toEqual({
      requestId: record.requestId,
      status: 'EXPIRED',
    });
    expect(await requests.get(record.requestId)).toMatchObject({ status: 'EXPIRED', approval: { status: 'EXPIRED' } });
    expect((await tasks.get(taskIdFor(record.requestId)))?.status).toBe('EXPIRED');
    expect((await audit.list(record.requestId)).map((e) => e.event)).toEqual(['request.finalized']);
  });

  it('never rewrites a request that already ended when a later step fails', async () => {
    const { requests, tasks, audit } = stores();
    const record = aRequestRecord({ status: 'COMPLETED', result: { purchaseOrderNumber: 'PO-1' } });
    await requests.create(record);
    const state = aWorkflowState({ requestId: record.requestId, error: { Error: 'AuditWriteFailed' } });

    const output = await finalizeStep(state, { requests, tasks, audit }, { failurePath: true });
    expect(output.status).toBe('COMPLETED');
    expect(await requests.get(record.requestId)).toMatchObject({ status: 'COMPLETED', result: { purchaseOrderNumber: 'PO-1' } });
    expect((await audit.list(record.requestId)).map((e) => e.event)).toEqual(['request.failure_after_end']);
  });

  it('says so when the effect was applied before the failure', async () => {
    const { requests, tasks, audit } = stores();
    const record = aRequestRecord({ status: 'RUNNING' });
    await requests.create(record);
    const state = aWorkflowState({ requestId: record.requestId, result: { refundId: 'RF-1' }, error: { Error: 'AuditWriteFailed' } });

    await finalizeStep(state, { requests, tasks, audit }, { failurePath: true });
    const failed = await requests.get(record.requestId);
    expect(failed).toMatchObject({ status: 'FAILED', error: { code: 'audit_write_failed' } });
    expect(failed?.error?.message).toMatch(/effect was applied/);
  });
});

describe('executionStep', () => {
  it('refuses to execute a proposal that needed a human and has no approval', async () => {
    const { requests, audit, records, clock } = stores();
    const state = aWorkflowState({
      proposal: po,
      decision: { outcome: 'pending_approval', reasons: ['above_autonomous_limit'], policy, fingerprint: 'f'.repeat(64) },
    });
    await expect(executionStep(state, { requests, audit, records, clock })).rejects.toMatchObject({ name: 'InvalidWorkflowState' });
    expect(await records.findEffect('f'.repeat(64))).toBeUndefined();
  });

  it('executes an approved proposal once and stores the receipt', async () => {
    const { requests, audit, records, clock } = stores();
    const record = aRequestRecord({ status: 'RUNNING' });
    await requests.create(record);
    const state = aWorkflowState({
      requestId: record.requestId,
      proposal: po,
      decision: { outcome: 'approved', reasons: [], policy, fingerprint: 'e'.repeat(64) },
    });
    const next = await executionStep(state, { requests, audit, records, clock });
    expect(next.result).toMatchObject({ vendor: 'Initech', amount: 100 });
    expect((await requests.get(record.requestId))?.result).toEqual(next.result);
    const again = await executionStep(state, { requests, audit, records, clock });
    expect(again.result).toEqual(next.result);
  });
});
