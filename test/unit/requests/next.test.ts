import { CORE_EXPLANATIONS } from '../../../lambdas/shared/policy';
import { nextOf, toPublicRequest } from '../../../lambdas/shared/requests/view';
import type { RequestRecord } from '../../../lambdas/shared/schemas/records';

/** `next` from a stored request alone (API.md): the statuses an integration test cannot easily reach. */

const base: RequestRecord = {
  requestId: 'r_next0000000000000000001',
  status: 'RUNNING',
  requestedBy: 'alice',
  requesterRoles: ['support-agent'],
  createdAt: '2026-12-03T10:00:00.000Z',
  updatedAt: '2026-12-03T10:00:00.000Z',
};
const failed = (code: string): RequestRecord => ({ ...base, status: 'FAILED', error: { code, message: 'x' } });

it.each([
  ['model_unavailable', true],
  ['connector_failed', true],
  ['orchestrator_unavailable', true],
  ['execution_timed_out', true],
  ['model_access_denied', false],
  ['model_misconfigured', false],
  ['duplicate_proposal', false],
  ['effect_precondition_failed', false],
  ['step_failed', false],
])('FAILED %s: failed, retryable %s', (code, retryable) => {
  expect(nextOf(failed(code))).toEqual({ state: 'failed', retryable });
});

it('QUEUED and RUNNING are running; EXPIRED is done, and worth sending again', () => {
  expect(nextOf({ ...base, status: 'QUEUED' })).toEqual({ state: 'running', retryable: false });
  expect(nextOf(base)).toEqual({ state: 'running', retryable: false });
  expect(nextOf({ ...base, status: 'EXPIRED' })).toEqual({ state: 'done', retryable: true });
});

it('a REJECTED request with no missing fields is done, not needs_changes', () => {
  expect(nextOf({ ...base, status: 'REJECTED', missingFields: [] })).toEqual({ state: 'done', retryable: false });
});

it("a decision stored before its sentences were recorded still explains the core's codes, and only those", () => {
  const record: RequestRecord = { ...base, status: 'REJECTED', decision: { outcome: 'rejected', reasons: ['duplicate_proposal', 'unvalidated_vendor'], policy: { id: 'p', version: '1' } } };
  expect(nextOf(record).explanations).toEqual({ duplicate_proposal: CORE_EXPLANATIONS.duplicate_proposal });
});

it('the stored waitingFor, missingFields and explanations appear only inside next', () => {
  const record: RequestRecord = {
    ...base,
    status: 'PENDING_APPROVAL',
    waitingFor: { approverRoles: ['procurement-manager'], tier: 'procurement-manager', deadline: '2026-12-10T10:00:00.000Z' },
    missingFields: ['amount'],
    explanations: { low_confidence: 'x' },
  };
  const view = toPublicRequest(record) as unknown as Record<string, unknown>;
  expect(Object.keys(view).sort()).toEqual(['createdAt', 'next', 'requestId', 'requestedBy', 'status', 'updatedAt']);
  expect(view.next).toEqual({ state: 'waiting_for_approval', waitingFor: record.waitingFor, retryable: false, explanations: { low_confidence: 'x' } });
});
