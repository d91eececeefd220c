import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { CHAIN_START, chainHeadOf, GENESIS_HASH, hashEntry, headMessage } from '../../../lambdas/shared/audit/chain';
import { purchaseOrderKey, purchaseOrderNumber } from '../../../actions/purchase_order/builtin';
import { ModelAccessDenied, ModelNotFound, ModelSettingError, ModelUnavailable, modelFailureCauseOf } from '../../../lambdas/shared/errors';
import { taskIdFor } from '../../../lambdas/shared/ids';
import { dehydrateForApproval } from '../../../lambdas/shared/approval';
import type { ModelProvider } from '../../../lambdas/shared/ports';
import { executionStep, failureCode, finalizeStep, inferenceStep, terminalStatus, validationStep } from '../../../lambdas/shared/workflow/steps';
import type { WorkflowState } from '../../../lambdas/shared/schemas/workflow';
import { aPendingTask, aRequestRecord, aWorkflowState } from '../../support/fixtures';
import { toPublicRequest } from '../../../lambdas/shared/requests/view';
import type { RequestRecord } from '../../../lambdas/shared/schemas/records';
import { useEmulatedStores } from '../../support/stores';
import { CumulativeLedger } from '../../../lambdas/shared/limits';
import { cumulativeSharesOf } from '../../../lambdas/shared/validation';
import { ledgerKey } from '../../../lambdas/shared/limits/shares';

/** The last steps of the flow, against the real stores: what a request ends as, and what is kept. */

const stores = useEmulatedStores();

/** Triage's result for a purchase order on `route`, as the steps after it read it. */
const poTriage = (route: 'deterministic' | 'generative'): NonNullable<WorkflowState['triage']> => ({
  route,
  action: 'purchase_order',
  complexity: 0,
  modelTier: 'low',
  signals: [],
  reason: 'test',
});
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

  it('maps every model failure class to the code API.md names', () => {
    const classes = [new ModelUnavailable('throttled', 'x'), new ModelAccessDenied('no_credentials', 'x'), new ModelNotFound('end_of_life', 'x'), new ModelSettingError('no_region', 'x')];
    expect(classes.map((error) => [error.name, failureCode(error.name), error.code])).toEqual([
      ['ModelUnavailable', 'model_unavailable', 'model_unavailable'],
      ['ModelAccessDenied', 'model_access_denied', 'model_access_denied'],
      ['ModelNotFound', 'model_not_found', 'model_not_found'],
      ['ModelSettingError', 'model_misconfigured', 'model_misconfigured'],
    ]);
  });
});

describe('modelFailureCauseOf', () => {
  const thrown = new ModelAccessDenied('access_denied', 'Bedrock model m: access denied (AccessDeniedException, HTTP 403).');

  it('reads the cause class from the Cause Lambda builds in AWS (JSON) and from the message the local engine passes', () => {
    const lambdaCause = JSON.stringify({ errorType: thrown.name, errorMessage: thrown.message, trace: ['ModelAccessDenied: …', '    at classifyBedrockError (…)'] });
    expect(modelFailureCauseOf({ Error: thrown.name, Cause: lambdaCause })).toBe('access_denied');
    expect(modelFailureCauseOf({ Error: thrown.name, Cause: thrown.message })).toBe('access_denied');
  });

  it('returns nothing for another error, a missing Cause, or a class it does not know', () => {
    expect(modelFailureCauseOf({ Error: 'AuditWriteFailed', Cause: '[throttled] looks like one' })).toBeUndefined();
    expect(modelFailureCauseOf({ Error: 'ModelUnavailable' })).toBeUndefined();
    expect(modelFailureCauseOf({ Error: 'ModelUnavailable', Cause: '[the request text] was here' })).toBeUndefined();
    expect(modelFailureCauseOf(undefined)).toBeUndefined();
  });
});

describe('finalizeStep', () => {
  describe('on a chain an earlier version wrote (its last entry vouched for by a signed head under seq 0)', () => {
    async function legacyChain(requestId: string, last: { step: string; data: Record<string, unknown> }) {
      const { doc, emulators, signer } = stores();
      const first = { requestId, seq: 1, at: '2026-12-01T00:00:00.000Z', step: 'Submit', actor: { type: 'human' as const, id: 'u' }, event: 'request.submitted', data: {}, prevHash: GENESIS_HASH };
      const e1 = { ...first, hash: hashEntry(first) };
      const second = { requestId, seq: 2, at: '2026-12-01T00:00:01.000Z', step: last.step, actor: { type: 'system' as const, id: 'finalizer' }, event: 'request.finalized', data: last.data, prevHash: e1.hash };
      const e2 = { ...second, hash: hashEntry(second) };
      const { signature, keyId } = await signer.sign(headMessage(requestId, 2, e2.hash));
      await doc.send(new PutCommand({ TableName: emulators.tableNames.audit, Item: e1 }));
      await doc.send(new PutCommand({ TableName: emulators.tableNames.audit, Item: { requestId, seq: 0, entry: e2, keyId, signature: Buffer.from(signature).toString('base64') } }));
      return e2;
    }

    it('MarkFailed retried after it ended the request adds nothing; another failure after the end is recorded', async () => {
      const { requests, tasks, audit } = stores();
      const own = aRequestRecord({ status: 'FAILED' });
      await requests.create(own);
      await legacyChain(own.requestId, { step: 'MarkFailed', data: { status: 'FAILED', failedWith: 'Error' } });
      await finalizeStep(aWorkflowState({ requestId: own.requestId, error: { Error: 'Error' } }), { requests, tasks, audit }, { failurePath: true });
      expect((await audit.list(own.requestId)).map((e) => e.event)).toEqual(['request.submitted', 'request.finalized']);

      const ended = aRequestRecord({ status: 'COMPLETED' });
      await requests.create(ended);
      await legacyChain(ended.requestId, { step: 'Finalize', data: { status: 'COMPLETED' } });
      await finalizeStep(aWorkflowState({ requestId: ended.requestId, error: { Error: 'Error' } }), { requests, tasks, audit }, { failurePath: true });
      expect((await audit.list(ended.requestId)).map((e) => e.event)).toEqual(['request.submitted', 'request.finalized', 'request.failure_after_end']);
    });

    it('a stored copy of the head\'s entry with other content (its hash attribute kept) cannot hide a failure after the end', async () => {
      const { requests, tasks, audit, doc, emulators } = stores();
      const ended = aRequestRecord({ status: 'COMPLETED' });
      await requests.create(ended);
      const e2 = await legacyChain(ended.requestId, { step: 'Finalize', data: { status: 'COMPLETED' } });
      await doc.send(new PutCommand({ TableName: emulators.tableNames.audit, Item: { ...e2, step: 'MarkFailed', data: { status: 'COMPLETED', failedWith: 'Error' } } }));
      await expect(audit.end(ended.requestId)).resolves.toBeUndefined();
      await finalizeStep(aWorkflowState({ requestId: ended.requestId, error: { Error: 'Error' } }), { requests, tasks, audit }, { failurePath: true });
      expect((await audit.list(ended.requestId)).map((e) => e.event)).toContain('request.failure_after_end');
    });
  });

  it('MarkFailed acts on no closing entry the audit key did not sign: a forged one can neither end the request nor hide a failure after its end', async () => {
    const { requests, tasks, audit, doc, emulators } = stores();
    /** Someone with write access to the table, but not the key, appends an entry that ends the chain. */
    const forgeEnd = async (requestId: string, data: Record<string, unknown>, step: string) => {
      const [last] = (await audit.list(requestId)).slice(-1);
      const { hash: _hash, ...rest } = { ...last!, seq: last!.seq + 1, prevHash: last!.hash, step, event: 'request.finalized', data, keyId: 'k', signature: Buffer.from('not a signature').toString('base64') };
      await doc.send(new PutCommand({ TableName: emulators.tableNames.audit, Item: { ...rest, hash: hashEntry(rest) } }));
    };
    const record = aRequestRecord({ status: 'RUNNING' });
    await requests.create(record);
    await audit.append(record.requestId, { step: 'Validate', actor: { type: 'system', id: 'validator' }, event: 'proposal.validated', data: {} }, CHAIN_START);
    await forgeEnd(record.requestId, { status: 'COMPLETED' }, 'Finalize');
    const failed = aWorkflowState({ requestId: record.requestId, error: { Error: 'Error' } });
    await expect(finalizeStep(failed, { requests, tasks, audit }, { failurePath: true })).rejects.toMatchObject({ name: 'AuditWriteFailed' });
    expect(await requests.get(record.requestId)).toMatchObject({ status: 'RUNNING' });

    // An ended request, and a forged entry that says this very failure already ended it.
    const ended = aRequestRecord({ status: 'COMPLETED' });
    await requests.create(ended);
    await audit.append(ended.requestId, { step: 'Finalize', actor: { type: 'system', id: 'finalizer' }, event: 'request.finalized', data: { status: 'COMPLETED' } }, CHAIN_START);
    await forgeEnd(ended.requestId, { status: 'COMPLETED', failedWith: 'Error' }, 'MarkFailed');
    const late = aWorkflowState({ requestId: ended.requestId, error: { Error: 'Error' } });
    await expect(finalizeStep(late, { requests, tasks, audit }, { failurePath: true })).rejects.toMatchObject({ name: 'AuditWriteFailed' });
  });

  describe('shares of cumulative limits', () => {
    /** A request whose share of its vendor was reserved, ending as `overrides` say; the vendor's total after Finalize. */
    async function vendorTotalAfter(overrides: Partial<WorkflowState>, claimed: boolean, failurePath: boolean): Promise<number> {
      const { requests, tasks, audit, records } = stores();
      const ledger = new CumulativeLedger(records);
      const record = aRequestRecord({ status: failurePath ? 'RUNNING' : 'PENDING_APPROVAL' });
      await requests.create(record);
      // A vendor of this request's own, so that the total is this request's share or nothing.
      const submitted = { action: 'purchase_order' as const, fields: { vendor: `Vendor ${record.requestId}`, amount: 4000, currency: 'USD', description: 'ledger release' } };
      const state = aWorkflowState({ requestId: record.requestId, submitted, proposal: submitted, ...overrides });
      const shares = cumulativeSharesOf(state);
      await ledger.reserve(record.requestId, shares, new Date());
      if (claimed) await records.putIfAbsent({ pk: `EFFECT#${state.decision?.fingerprint}`, sk: 'META', requestId: record.requestId, at: new Date().toISOString() });
      await finalizeStep(state, { requests, tasks, audit, ledger, records }, { failurePath });
      const [total] = await ledger.reserve('r_probe', [{ ...shares[0], units: 0 }], new Date());
      return total;
    }

    it('an expired wait releases the request\'s share', async () => {
      expect(await vendorTotalAfter({ decision: { outcome: 'pending_approval', reasons: ['above_autonomous_limit'], policy }, error: { Error: 'States.Timeout' } }, false, false)).toBe(0);
    });

    it('a rejection by the approver releases it', async () => {
      const overrides = { decision: { outcome: 'pending_approval' as const, reasons: [], policy }, approval: { taskId: 't_1', status: 'REJECTED' as const } };
      expect(await vendorTotalAfter(overrides, false, false)).toBe(0);
    });

    it('a failure after the effect claimed the proposal keeps it: the effect may have run', async () => {
      const decision = { outcome: 'approved' as const, reasons: [], policy, fingerprint: `fp-${Math.random().toString(36).slice(2)}` };
      expect(await vendorTotalAfter({ decision, error: { Error: 'ConnectorFailed' } }, true, true)).toBe(400_000);
    });

    it('a failure before any effect releases it', async () => {
      const decision = { outcome: 'approved' as const, reasons: [], policy, fingerprint: `fp-${Math.random().toString(36).slice(2)}` };
      expect(await vendorTotalAfter({ decision, error: { Error: 'ConnectorFailed' } }, false, true)).toBe(0);
    });

    it.each([
      ['waiting for a human', undefined, false, 0],
      ['after a human rejected it', 'REJECTED' as const, false, 0],
      // Its effect may have run: the shares stay (fail safe).
      ['after a human approved it', 'APPROVED' as const, false, 4000],
      // A decision whose undo put the task back although it reached the workflow: the claim says the effect started.
      ['waiting, its proposal claimed by it', 'PENDING' as const, true, 4000],
    ])('an execution aborted %s (only its request id reaches MarkFailed) is judged from the record', async (_when, approved, claimed, expected) => {
      const { requests, tasks, audit, records } = stores();
      const ledger = new CumulativeLedger(records);
      const proposal = { action: 'purchase_order' as const, fields: { vendor: `Aborted ${Math.random().toString(36).slice(2)}`, amount: 4000, currency: 'USD', description: 'aborted' } };
      const effectFingerprint = `fp-${Math.random().toString(36).slice(2)}`;
      const record = aRequestRecord({
        status: 'PENDING_APPROVAL',
        proposal,
        decision: { outcome: 'pending_approval', reasons: ['above_autonomous_limit'], policy },
        effectFingerprint,
        ...(approved ? { approval: { taskId: taskIdFor('r_x'), status: approved } } : {}),
      });
      await requests.create(record);
      if (claimed) await records.putIfAbsent({ pk: `EFFECT#${effectFingerprint}`, sk: 'META', requestId: record.requestId, at: new Date().toISOString() });
      const shares = cumulativeSharesOf({ submitted: proposal, requestedBy: { sub: record.requestedBy, roles: record.requesterRoles } });
      await ledger.reserve(record.requestId, shares, new Date());
      // What the finalize handler makes of the ExecutionAbandoned rule's input.
      const abandoned: WorkflowState = { requestId: record.requestId, requestedBy: { sub: 'unknown', roles: [] }, submittedAt: '', text: '', approvalTimeoutSeconds: 1, error: { Error: 'ABORTED' } };
      await finalizeStep(abandoned, { requests, tasks, audit, ledger, records }, { failurePath: true });
      expect(await requests.get(record.requestId)).toMatchObject({ status: 'FAILED' });
      const totals = await ledger.reserve('r_probe', shares.map((share) => ({ ...share, units: 0 })), new Date());
      // Both measures (the vendor's, and this requester's to the vendor), in dollars.
      expect(totals.map((total) => total / 100)).toEqual([expected, expected]);
    });
  });

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

  it('an expired request whose task id holds a card-like digit run reads back, its task id intact', async () => {
    const { requests, tasks, audit } = stores();
    // taskIdFor gives t_mx96y7rx4e17228633594054: its last 14 digits pass the card detector's Luhn check.
    const record = aRequestRecord({ requestId: 'r_mx96y7rx4e17228633594054', status: 'PENDING_APPROVAL' });
    await requests.create(record);
    await tasks.putPending(aPendingTask({ requestId: record.requestId }));

    await finalizeStep(aWorkflowState({ requestId: record.requestId, error: { Error: 'States.Timeout' } }), { requests, tasks, audit }, { failurePath: false });

    const stored = await requests.get(record.requestId);
    expect(stored?.approval).toEqual({ taskId: 't_mx96y7rx4e17228633594054', status: 'EXPIRED' });
    expect(toPublicRequest(stored!).approval).toEqual({ taskId: 't_mx96y7rx4e17228633594054', status: 'EXPIRED' });
  });

  it('after a timed-out wait, appends after the entry the wait wrote (its state predates it) and the chain verifies', async () => {
    const { requests, tasks, audit } = stores();
    const record = aRequestRecord({ status: 'PENDING_APPROVAL' });
    await requests.create(record);
    await tasks.putPending(aPendingTask({ requestId: record.requestId }));
    const event = (step: string, name: string) => ({ step, actor: { type: 'system' as const, id: step.toLowerCase() }, event: name, data: {} });
    const validated = await audit.append(record.requestId, event('Validate', 'proposal.validated'), CHAIN_START);
    // AwaitApproval appended, then the wait timed out: the Catch hands Finalize the wait's input state.
    await audit.append(record.requestId, event('AwaitApproval', 'approval.requested'), chainHeadOf(validated));
    const state = aWorkflowState({ requestId: record.requestId, error: { Error: 'States.Timeout' }, audit: chainHeadOf(validated) });

    await finalizeStep(state, { requests, tasks, audit }, { failurePath: false });

    const stored = await requests.get(record.requestId);
    expect(stored).toMatchObject({ status: 'EXPIRED', auditHead: { seq: 3 } });
    const trail = await audit.trail(record.requestId, stored?.auditHead);
    expect(trail).toMatchObject({ verified: true });
    expect(trail.entries.map((e) => e.event)).toEqual(['proposal.validated', 'approval.requested', 'request.finalized']);
  });

  it('a Finalize of an expired wait, retried after its writes landed, ends the trail once', async () => {
    const { requests, tasks, audit } = stores();
    const record = aRequestRecord({ status: 'PENDING_APPROVAL' });
    await requests.create(record);
    await tasks.putPending(aPendingTask({ requestId: record.requestId }));
    const validated = await audit.append(record.requestId, { step: 'Validate', actor: { type: 'system', id: 'validator' }, event: 'proposal.validated', data: {} }, CHAIN_START);
    const state = aWorkflowState({ requestId: record.requestId, error: { Error: 'States.Timeout' }, audit: chainHeadOf(validated) });

    await finalizeStep(state, { requests, tasks, audit }, { failurePath: false });
    // Its answer was lost (Lambda.Unknown, say): Step Functions runs it again on the same state. The task is already EXPIRED.
    await expect(finalizeStep(state, { requests, tasks, audit }, { failurePath: false })).resolves.toMatchObject({ status: 'EXPIRED' });

    const stored = await requests.get(record.requestId);
    const trail = await audit.trail(record.requestId, stored?.auditHead);
    expect(trail.entries.map((e) => e.event)).toEqual(['proposal.validated', 'request.finalized']);
    expect(trail).toMatchObject({ verified: true, head: { seq: 2 } });
  });

  it('a MarkFailed retried after it ended the request adds nothing; another failure after the end is still recorded', async () => {
    const { requests, tasks, audit } = stores();
    const record = aRequestRecord({ status: 'RUNNING' });
    await requests.create(record);
    const state = aWorkflowState({ requestId: record.requestId, error: { Error: 'ConnectorFailed', Cause: 'x' } });

    await finalizeStep(state, { requests, tasks, audit }, { failurePath: true });
    await expect(finalizeStep(state, { requests, tasks, audit }, { failurePath: true })).resolves.toMatchObject({ status: 'FAILED' });
    expect((await audit.list(record.requestId)).map((e) => e.event)).toEqual(['request.finalized']);

    // The ExecutionAbandoned rule's MarkFailed, for another error, after the end: that is news.
    await finalizeStep({ ...state, error: { Error: 'ABORTED' } }, { requests, tasks, audit }, { failurePath: true });
    expect((await audit.list(record.requestId)).map((e) => [e.event, e.data.failedWith])).toEqual([
      ['request.finalized', 'ConnectorFailed'],
      ['request.failure_after_end', 'ABORTED'],
    ]);
    expect(await requests.get(record.requestId)).toMatchObject({ status: 'FAILED', error: { code: 'connector_failed' } });
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
    // The record's signed head covers it: cutting it off the trail would show.
    const stored = await requests.get(record.requestId);
    expect(stored?.auditHead).toMatchObject({ seq: 1 });
    expect(await audit.trail(record.requestId, stored?.auditHead)).toMatchObject({ verified: true });
  });

  it('when Finalize closed the chain but its record write failed, MarkFailed writes what the chain says and no second end', async () => {
    const { requests, tasks, audit } = stores();
    const record = aRequestRecord({ status: 'RUNNING' });
    await requests.create(record);
    const executed = await audit.append(record.requestId, { step: 'Execute', actor: { type: 'system', id: 'executor' }, event: 'effect.executed', data: {} }, CHAIN_START);
    // Finalize appended its end, then its record write threw (an error the Retry does not cover).
    await audit.append(record.requestId, { step: 'Finalize', actor: { type: 'system', id: 'finalizer' }, event: 'request.finalized', data: { status: 'COMPLETED' } }, chainHeadOf(executed));
    const state = aWorkflowState({ requestId: record.requestId, result: { purchaseOrderNumber: 'PO-9' }, audit: chainHeadOf(executed), error: { Error: 'ThrottlingException' } });

    await expect(finalizeStep(state, { requests, tasks, audit }, { failurePath: true })).resolves.toMatchObject({ status: 'COMPLETED' });
    const stored = await requests.get(record.requestId);
    expect(stored).toMatchObject({ status: 'COMPLETED', result: { purchaseOrderNumber: 'PO-9' } });
    expect((await audit.list(record.requestId)).map((e) => e.event)).toEqual(['effect.executed', 'request.finalized']);
    // The record's signed head is at Finalize's closing entry, as Finalize's own write would have put it.
    expect(stored?.auditHead).toMatchObject({ seq: 2 });
    expect(await audit.trail(record.requestId, stored?.auditHead)).toMatchObject({ verified: true });
  });

  it('marks an aborted execution\'s request FAILED and closes its pending task (ExecutionAbandoned rule)', async () => {
    const { requests, tasks, audit } = stores();
    const record = aRequestRecord({ status: 'PENDING_APPROVAL' });
    await requests.create(record);
    await tasks.putPending(aPendingTask({ requestId: record.requestId }));
    const state = aWorkflowState({ requestId: record.requestId, error: { Error: 'ABORTED' } });

    await finalizeStep(state, { requests, tasks, audit }, { failurePath: true });
    expect(await requests.get(record.requestId)).toMatchObject({
      status: 'FAILED',
      error: { code: 'execution_aborted' },
      approval: { status: 'EXPIRED' },
    });
    expect((await tasks.get(taskIdFor(record.requestId)))?.status).toBe('EXPIRED');
  });

  it.each([
    [new ModelAccessDenied('no_credentials', 'Bedrock model m: no AWS credentials were found (CredentialsProviderError).'), 'model_access_denied'],
    [new ModelNotFound('end_of_life', 'Bedrock model m is past its end of life (ValidationException, HTTP 400).'), 'model_not_found'],
    [new ModelUnavailable('throttled', 'Bedrock model m still failing after 4 attempts (ThrottlingException, HTTP 429).'), 'model_unavailable'],
    [new ModelSettingError('inference_profile_required', 'Bedrock model m can only be called through an inference profile.'), 'model_misconfigured'],
  ])('marks a model failure FAILED with its code, and audits the code and the cause class: %s', async (thrown, code) => {
    const { requests, tasks, audit } = stores();
    const record = aRequestRecord({ status: 'RUNNING' });
    await requests.create(record);
    const Cause = JSON.stringify({ errorType: thrown.name, errorMessage: thrown.message, trace: [] });
    const state = aWorkflowState({ requestId: record.requestId, error: { Error: thrown.name, Cause } });

    await finalizeStep(state, { requests, tasks, audit }, { failurePath: true });

    const failed = await requests.get(record.requestId);
    expect(failed).toMatchObject({ status: 'FAILED', error: { code } });
    expect(failed?.error?.message).toBe(`The model could not be called (${thrown.modelCause}); nothing was executed for it.`);
    const [entry] = await audit.list(record.requestId);
    expect(entry).toMatchObject({ step: 'MarkFailed', event: 'request.finalized' });
    expect(entry?.data).toEqual({ status: 'FAILED', error: code, failedWith: thrown.name, cause: thrown.modelCause });
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

describe('validationStep and the cumulative ledger', () => {
  it('Validate records the proposal\'s fingerprint for the abort path, and the request view does not show it', async () => {
    const { requests, audit, records, clock, tasks, state: states } = stores();
    const record = aRequestRecord({ status: 'QUEUED' });
    await requests.create(record);
    // Above the autonomous limit: it waits for a human, and AwaitApproval writes Validate's part.
    const state = aWorkflowState({ requestId: record.requestId, triage: poTriage('deterministic'), submitted: { ...po, fields: { ...po.fields, amount: 7850 } } });
    const next = await validationStep(state, { requests, audit, records, clock });
    expect(next.decision).toMatchObject({ outcome: 'pending_approval', fingerprint: expect.stringMatching(/^[0-9a-f]{64}$/) });
    await dehydrateForApproval({ taskToken: 'sfn-task-token', waitEnteredAt: clock.now().toISOString(), state: next }, { tasks, states, requests, audit, clock });
    const stored = await requests.get(record.requestId);
    expect(stored).toMatchObject({ status: 'PENDING_APPROVAL', effectFingerprint: next.decision?.fingerprint });
    expect(JSON.stringify(toPublicRequest(stored as RequestRecord))).not.toContain(String(next.decision?.fingerprint));
  });

  it('keeps a share that may still be waiting for a human (its approval timeout) when it prunes what is past the window', async () => {
    const { requests, audit, records, clock } = stores();
    const ledger = new CumulativeLedger(records);
    const record = aRequestRecord({ status: 'QUEUED' });
    await requests.create(record);
    const submitted = { action: 'purchase_order' as const, fields: { vendor: `Long wait ${record.requestId}`, amount: 10, currency: 'USD', description: 'paper' } };
    // Approvals may wait 45 days here; fifty requests were reserved 31 days ago, one of them still waiting.
    const state = aWorkflowState({ requestId: record.requestId, triage: poTriage('deterministic'), submitted, approvalTimeoutSeconds: 45 * 24 * 3600 });
    const shares = cumulativeSharesOf(state);
    const then = new Date(clock.now().getTime() - 31 * 24 * 3600 * 1000);
    for (let i = 0; i < 50; i++) await ledger.reserve(`r_waiting${i}`, shares, then);
    await validationStep(state, { requests, audit, records, clock, ledger });
    expect(Object.keys((await records.get(ledgerKey(shares[0]))) ?? {}).filter((name) => name.startsWith('hold#'))).toHaveLength(51);
  });

  it('a fact read that fails ends the step only once its reservation has landed, and MarkFailed then releases it', async () => {
    const { requests, audit, records, clock, tasks } = stores();
    const record = aRequestRecord({ status: 'QUEUED' });
    await requests.create(record);
    // A vendor of this request's own: the aggregate holds this request's share or nothing.
    const submitted = { action: 'purchase_order' as const, fields: { vendor: `Vendor ${record.requestId}`, amount: 900, currency: 'USD', description: 'paper' } };
    const state = aWorkflowState({ requestId: record.requestId, triage: poTriage('deterministic'), submitted });
    const [share] = cumulativeSharesOf(state);
    // The reservation is slow to land; the vendor read fails at once.
    const slowTable = Object.create(records) as typeof records;
    slowTable.updateIf = async (args) => {
      await new Promise((resolve) => setTimeout(resolve, 50));
      return records.updateIf(args);
    };
    const failingReads = Object.create(records) as typeof records;
    failingReads.findVendor = async () => {
      throw new Error('system of record unavailable');
    };
    const ledger = new CumulativeLedger(slowTable);
    await expect(validationStep(state, { requests, audit, records: failingReads, clock, ledger })).rejects.toThrow('system of record unavailable');
    // Nothing of the step is still in flight: its share is there as the step fails.
    const aggregate = await records.get(ledgerKey(share));
    expect(aggregate).toHaveProperty([`hold#${record.requestId}`]);

    // The share follows from the state alone: the failure path finds it and releases it.
    await finalizeStep({ ...state, error: { Error: 'Error', Cause: 'system of record unavailable' } }, { requests, tasks, audit, ledger, records }, { failurePath: true });
    expect(await records.get(ledgerKey(share))).not.toHaveProperty([`hold#${record.requestId}`]);
    expect(await requests.get(record.requestId)).toMatchObject({ status: 'FAILED' });
  });
});

describe('executionStep', () => {
  it('refuses to execute a proposal that needed a human and has no approval', async () => {
    const { audit, records, clock } = stores();
    const state = aWorkflowState({
      proposal: po,
      decision: { outcome: 'pending_approval', reasons: ['above_autonomous_limit'], policy, fingerprint: 'f'.repeat(64) },
    });
    await expect(executionStep(state, { audit, records, clock })).rejects.toMatchObject({ name: 'InvalidWorkflowState' });
    expect(await records.findEffect('f'.repeat(64))).toBeUndefined();
  });

  it('executes an approved proposal once and stores the receipt', async () => {
    const { requests, audit, records, clock } = stores();
    const record = aRequestRecord({ status: 'RUNNING' });
    await requests.create(record);
    const validated = await audit.append(record.requestId, { step: 'Validate', actor: { type: 'system', id: 'validator' }, event: 'proposal.validated', data: {} }, CHAIN_START);
    const state = aWorkflowState({
      requestId: record.requestId,
      proposal: po,
      decision: { outcome: 'approved', reasons: [], policy, fingerprint: 'e'.repeat(64) },
      audit: chainHeadOf(validated),
    });
    const next = await executionStep(state, { audit, records, clock });
    expect(next.result).toMatchObject({ vendor: 'Initech', amount: 100 });
    // The receipt travels in the state; Finalize writes it with the final status (one write).
    expect((await requests.get(record.requestId))?.result).toBeUndefined();
    expect(next.audit).toMatchObject({ seq: 2 });
    const again = await executionStep(state, { audit, records, clock });
    expect(again.result).toEqual(next.result);
    // The retried step got its first entry back: one entry, not two.
    expect(again.audit).toEqual(next.audit);
    expect(await audit.list(record.requestId)).toHaveLength(2);
    await finalizeStep(next, { requests, tasks: stores().tasks, audit }, { failurePath: false });
    expect(await requests.get(record.requestId)).toMatchObject({ status: 'COMPLETED', result: next.result, auditHead: { seq: 3 } });
  });

  it('an order a human approved days after it was asked counts against its vendor from its execution, not from its request', async () => {
    const { requests, audit, records, clock } = stores();
    const ledger = new CumulativeLedger(records);
    const record = aRequestRecord({ status: 'RUNNING' });
    await requests.create(record);
    const submitted = { action: 'purchase_order' as const, fields: { vendor: `Waited ${record.requestId}`, amount: 4000, currency: 'USD', description: 'approved late' } };
    const state = aWorkflowState({
      requestId: record.requestId,
      submitted,
      proposal: submitted,
      decision: { outcome: 'pending_approval', reasons: ['above_autonomous_limit'], policy, fingerprint: `late-${record.requestId}` },
      approval: { taskId: taskIdFor(record.requestId), status: 'APPROVED', decidedBy: 'approver-1', decidedAt: new Date().toISOString() },
    });
    const shares = cumulativeSharesOf(state);
    const asked = clock.now();
    await ledger.reserve(record.requestId, shares, asked);
    // Approved and executed six days later.
    clock.advance(6 * 24 * 3600 * 1000);
    await executionStep(state, { audit, records, clock, ledger });
    // Thirty-one days after the request, twenty-five after the effect: it still counts, under both measures.
    const probe = shares.map((share) => ({ ...share, units: 0 }));
    expect(await ledger.reserve('r_probe', probe, new Date(asked.getTime() + 31 * 24 * 3600 * 1000))).toEqual([400_000, 400_000]);
    // An order policy approved at once is not written again.
    const calls: string[] = [];
    const counting = Object.create(records) as typeof records;
    counting.updateIf = (args) => (calls.push(args.key.pk), records.updateIf(args));
    const auto = aWorkflowState({ submitted, proposal: submitted, decision: { outcome: 'approved', reasons: [], policy, fingerprint: `auto-${record.requestId}` } });
    await executionStep(auto, { audit, records: counting, clock, ledger: new CumulativeLedger(counting) });
    expect(calls.filter((pk) => pk.startsWith('LIMIT#'))).toEqual([]);
  });
});

describe('the vault and the outbound shield in the steps', () => {
  const APPROVAL_TOKEN = 'Zk3_q9XbT2mN8vLpR4sW6yA1cE5gH7jK0oQ-uIdF2eB';
  const vaulted = { pii: [{ type: 'email', count: 1 }], signals: [], vaulted: true };

  async function storedPurchaseOrder(requestId: string) {
    const { doc, emulators } = stores();
    const { Item } = await doc.send(new GetCommand({ TableName: emulators.tableNames.records, Key: purchaseOrderKey(purchaseOrderNumber(requestId)) }));
    return Item;
  }

  it('Execute writes the original into the system of record and keeps the placeholder in the result and the audit', async () => {
    const { requests, audit, records, clock, state: vault } = stores();
    const record = aRequestRecord({ status: 'RUNNING' });
    await requests.create(record);
    await vault.putVault(record.requestId, { '[EMAIL_1]': 'jane@example.com' });
    const state = aWorkflowState({
      requestId: record.requestId,
      shield: vaulted,
      proposal: { ...po, fields: { ...po.fields, description: 'chairs, invoice to [EMAIL_1]' } },
      decision: { outcome: 'approved', reasons: [], policy, fingerprint: `vault-${record.requestId}` },
    });

    const next = await executionStep(state, { audit, records, clock, vault });

    expect(await storedPurchaseOrder(record.requestId)).toMatchObject({ description: 'chairs, invoice to jane@example.com' });
    expect(next.result).toMatchObject({ description: 'chairs, invoice to [EMAIL_1]' });
    const entries = await audit.list(record.requestId);
    expect(entries.map((e) => e.data)).toEqual([expect.objectContaining({ piiRestoredIn: ['description'] })]);
    expect(JSON.stringify([next, entries, await requests.get(record.requestId)])).not.toContain('jane@example.com');
  });

  it('Execute fails rather than write placeholders when the vault it was promised is missing', async () => {
    const { audit, records, clock, state: vault } = stores();
    const state = aWorkflowState({
      shield: vaulted,
      proposal: po,
      decision: { outcome: 'approved', reasons: [], policy, fingerprint: 'v'.repeat(64) },
    });
    await expect(executionStep(state, { audit, records, clock, vault })).rejects.toMatchObject({ status: 404 });
    await expect(executionStep(state, { audit, records, clock })).rejects.toMatchObject({ name: 'InvalidWorkflowState' });
    expect(await records.findEffect('v'.repeat(64))).toBeUndefined();
  });

  it('Inference audits a model candidate without the token or email it tried to smuggle', async () => {
    const { requests, audit } = stores();
    const record = aRequestRecord({ status: 'RUNNING' });
    await requests.create(record);
    const smuggler: ModelProvider = {
      name: 'smuggler',
      async propose() {
        return {
          candidate: { action: 'purchase_order', fields: { vendor: 'Initech', amount: 900, description: `toner ${APPROVAL_TOKEN} mail eve@evil.example` } },
          confidence: 0.99,
          model: { provider: 'test', id: 'smuggler-1', inputTokens: 1, outputTokens: 1, costUsd: 0 },
        };
      },
    };
    const state = aWorkflowState({ requestId: record.requestId, triage: poTriage('generative') });
    await inferenceStep(state, { requests, audit, provider: smuggler });
    const [entry] = await audit.list(record.requestId);
    expect(entry?.data).toMatchObject({ candidate: { fields: { description: 'toner [TOKEN_1] mail [EMAIL_1]' } } });
    expect(JSON.stringify(entry)).not.toContain(APPROVAL_TOKEN);
    expect(JSON.stringify(entry)).not.toContain('eve@evil.example');
  });

  it('Validate stores and audits the proposal with the smuggled token redacted (for an approver: with AwaitApproval\'s write)', async () => {
    const { requests, audit, records, clock, tasks, state: states } = stores();
    const record = aRequestRecord({ status: 'RUNNING' });
    await requests.create(record);
    const candidate = { action: 'purchase_order', fields: { vendor: 'Initech', amount: 900, currency: 'USD', description: `toner ${APPROVAL_TOKEN}` } };
    const state = aWorkflowState({
      requestId: record.requestId,
      text: 'Create a PO for Initech for $900 of toner',
      proposal: undefined,
      triage: poTriage('generative'),
      inference: { candidate, confidence: 0.99, model: { provider: 'test', id: 'm', inputTokens: 1, outputTokens: 1, costUsd: 0 } },
    });
    const next = await validationStep(state, { requests, audit, records, clock });
    // What goes on (to the approver's task and the effect) is the shielded proposal, and a human decides it.
    expect(next.proposal?.fields).toMatchObject({ description: 'toner [TOKEN_1]' });
    expect(next.decision).toMatchObject({ outcome: 'pending_approval', reasons: expect.arrayContaining(['ungrounded_value']) });
    // A request for an approver: Validate's part of the record comes with AwaitApproval's one write.
    expect(await requests.get(record.requestId)).not.toHaveProperty('decision');
    await dehydrateForApproval({ taskToken: 'sfn-task-token', waitEnteredAt: clock.now().toISOString(), state: next }, { tasks, states, requests, audit, clock });
    expect(await requests.get(record.requestId)).toMatchObject({
      status: 'PENDING_APPROVAL',
      route: 'generative',
      action: 'purchase_order',
      proposal: { fields: { description: 'toner [TOKEN_1]' } },
      decision: { outcome: 'pending_approval', reasons: expect.arrayContaining(['ungrounded_value']) },
      explanations: { ungrounded_value: expect.any(String) },
    });
    const entries = await audit.list(record.requestId);
    expect(entries[0]?.data).toMatchObject({ outboundRedactions: [{ type: 'token', count: 1 }] });
    expect(JSON.stringify([await requests.get(record.requestId), entries])).not.toContain(APPROVAL_TOKEN);
  });

  it('MarkFailed after an AwaitApproval that never wrote the record writes the part Validate left to it', async () => {
    const { requests, audit, records, clock, tasks } = stores();
    const record = aRequestRecord({ status: 'QUEUED' });
    await requests.create(record);
    const state = aWorkflowState({
      requestId: record.requestId,
      triage: poTriage('deterministic'),
      // Over the autonomous limit: an approver decides.
      submitted: { action: 'purchase_order', fields: { vendor: 'Initech', amount: 7850, currency: 'USD', description: 'workstations' } },
    });
    const next = await validationStep(state, { requests, audit, records, clock });
    expect(next.decision?.outcome).toBe('pending_approval');
    expect(await requests.get(record.requestId)).toMatchObject({ status: 'QUEUED' });
    const failed = { ...next, error: { Error: 'Lambda.ServiceException', Cause: 'dehydrate unavailable' } };
    await finalizeStep(failed, { requests, tasks, audit }, { failurePath: true });
    expect(await requests.get(record.requestId)).toMatchObject({
      status: 'FAILED',
      route: 'deterministic',
      action: 'purchase_order',
      proposal: { action: 'purchase_order', fields: { vendor: 'Initech', amount: 7850 } },
      decision: { outcome: 'pending_approval', reasons: next.decision?.reasons },
      explanations: expect.any(Object),
    });
  });

  it('Validate that outlives its execution leaves a request Finalize already ended as it ended', async () => {
    const { requests, audit, records, clock } = stores();
    const record = aRequestRecord({ status: 'FAILED' });
    await requests.create(record);
    const state = aWorkflowState({
      requestId: record.requestId,
      triage: poTriage('deterministic'),
      submitted: { action: 'purchase_order', fields: { vendor: 'Initech', amount: 10, currency: 'USD', description: 'pens' } },
    });
    await validationStep(state, { requests, audit, records, clock });
    expect(await requests.get(record.requestId)).toMatchObject({ status: 'FAILED' });
  });

  it('Finalize scans what the request shows again, with the vault, and says what it redacted', async () => {
    const { requests, tasks, audit, state: vault } = stores();
    // What Validate and Execute handed over (and Validate stored), echoing the original in another case.
    const proposal = { ...po, fields: { ...po.fields, description: 'toner for JANE@example.com' } };
    const record = aRequestRecord({ status: 'RUNNING', proposal });
    await requests.create(record);
    await vault.putVault(record.requestId, { '[EMAIL_1]': 'jane@example.com' });
    const state = aWorkflowState({
      requestId: record.requestId,
      shield: vaulted,
      proposal,
      decision: { outcome: 'approved', reasons: [], policy },
      result: { purchaseOrderNumber: 'PO-1', note: `ref ${APPROVAL_TOKEN}` },
    });

    await expect(finalizeStep(state, { requests, tasks, audit, vault }, { failurePath: false })).resolves.toMatchObject({ status: 'COMPLETED' });

    const stored = await requests.get(record.requestId);
    expect(stored?.proposal?.fields).toMatchObject({ description: 'toner for [EMAIL_1]' });
    expect(stored?.result).toEqual({ purchaseOrderNumber: 'PO-1', note: 'ref [TOKEN_1]' });
    const [entry] = await audit.list(record.requestId);
    expect(entry?.data).toEqual({
      status: 'COMPLETED',
      outboundRedactions: [
        { type: 'email', count: 1 },
        { type: 'token', count: 1 },
      ],
    });
    expect(JSON.stringify(stored).toLowerCase()).not.toContain('jane@example.com');
  });

  it('Finalize still marks a failed request FAILED when the vault cannot be read', async () => {
    const { requests, tasks, audit, state: vault } = stores();
    const record = aRequestRecord({ status: 'RUNNING' });
    await requests.create(record);
    const state = aWorkflowState({ requestId: record.requestId, shield: vaulted, error: { Error: 'ModelUnavailable' } });
    await expect(finalizeStep(state, { requests, tasks, audit, vault }, { failurePath: true })).resolves.toMatchObject({ status: 'FAILED' });
    expect(await requests.get(record.requestId)).toMatchObject({ status: 'FAILED', error: { code: 'model_unavailable' } });
  });

  it('Finalize names a model setting an operator must fix (an SSM id off the allowed list) model_misconfigured', async () => {
    const { requests, tasks, audit, state: vault } = stores();
    const record = aRequestRecord({ status: 'RUNNING' });
    await requests.create(record);
    const state = aWorkflowState({ requestId: record.requestId, error: { Error: 'ModelSettingError' } });
    await finalizeStep(state, { requests, tasks, audit, vault }, { failurePath: true });
    expect(await requests.get(record.requestId)).toMatchObject({ status: 'FAILED', error: { code: 'model_misconfigured' } });
  });
});

describe('cumulativeSharesOf', () => {
  it("counts a tier upgrade's step from its effective date (policy.json `countedFrom`), a purchase order's from its request", () => {
    const upgrade = { action: 'tier_upgrade' as const, fields: { customerId: 'C-1001', currentTier: 'basic', targetTier: 'standard', effectiveDate: '2031-05-30', justification: 'they outgrew their plan' } };
    expect(cumulativeSharesOf(aWorkflowState({ submitted: upgrade }))).toEqual([
      expect.objectContaining({ name: 'customerSteps', units: 1, windowDays: 90, countsFrom: '2031-05-30T00:00:00.000Z' }),
    ]);
    const shares = cumulativeSharesOf(aWorkflowState({ submitted: po }));
    expect(shares.map((share) => share.name)).toEqual(['vendor', 'requesterVendor']);
    for (const share of shares) expect(share).not.toHaveProperty('countsFrom');
  });
});
