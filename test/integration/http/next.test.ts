import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CORE_EXPLANATIONS } from '../../../lambdas/shared/policy';
import { expectProblem, useTestServer, type Json } from '../../support/http-client';

/**
 * Answers an agent can act on (API.md `next`, issue 13): every request view says what happens
 * now and what the caller can do, each reason code comes with the sentence its policy gives, and
 * a structured request with bad fields hears about all of them at once.
 */

const requester = { sub: 'nx-alice', roles: ['support-agent'] };
const procurement = { sub: 'nx-pat', roles: ['procurement-manager'] };

const { client } = useTestServer();

/** The sentence a forbid's `@explain` gives, read from the action's policy.cedar as shipped. */
function explainedIn(action: string, code: string): string {
  const text = readFileSync(join(__dirname, '../../../actions', action, 'policy.cedar'), 'utf8');
  const sentence = new RegExp(`@explain\\("([^"]+)"\\)\\n@id\\("${code}"\\)`).exec(text)?.[1];
  if (!sentence) throw new Error(`${action}/policy.cedar has no @explain for ${code}`);
  return sentence;
}

it('COMPLETED: done, nothing to retry, no reasons to explain', async () => {
  const requestId = await client.submitOk(requester, {
    text: 'Chairs for the next-step suite',
    action: 'purchase_order',
    fields: { vendor: 'Globex Corporation', amount: 1310, description: 'next-step suite chairs' },
  });
  const done = await client.waitForStatus(requester, requestId, 'COMPLETED');
  expect(done.status).toBe('COMPLETED');
  expect(done.next).toEqual({ state: 'done', retryable: false });
});

it("PENDING_APPROVAL: waiting for the tier's roles until the task's deadline, each reason in the policy's words", async () => {
  const requestId = await client.submitOk(requester, {
    text: 'Workstations for the next-step suite',
    action: 'purchase_order',
    fields: { vendor: 'Alpha Tech Systems', amount: 7850, description: 'next-step suite workstations' },
  });
  const task = await client.waitForTask(procurement, requestId);
  const pending = await client.waitForStatus(requester, requestId, 'PENDING_APPROVAL');
  expect(pending).toMatchObject({ status: 'PENDING_APPROVAL', decision: { reasons: ['above_autonomous_limit'] } });
  expect(pending.next).toEqual({
    state: 'waiting_for_approval',
    waitingFor: { approverRoles: ['procurement-manager'], tier: 'procurement-manager', deadline: task.expiresAt },
    retryable: false,
    explanations: { above_autonomous_limit: explainedIn('purchase_order', 'above_autonomous_limit') },
  });

  // After the decision it runs again, then is done; the reasons keep their sentences.
  const decided = await client.decide(procurement, task.taskId, { decision: 'approve', approvalToken: task.approvalToken });
  expect(decided.status).toBe(200);
  const done = await client.waitForStatus(requester, requestId, 'COMPLETED');
  expect(done.next).toEqual({ state: 'done', retryable: false, explanations: { above_autonomous_limit: explainedIn('purchase_order', 'above_autonomous_limit') } });
});

it('REJECTED by policy: done, not retryable, a sentence from the policy for every reason', async () => {
  const requestId = await client.submitOk(requester, {
    text: 'Move C-1001 down a tier',
    action: 'tier_upgrade',
    fields: { customerId: 'C-1001', currentTier: 'standard', targetTier: 'basic', effectiveDate: '2020-01-01', justification: 'testing the next step answer' },
  });
  const rejected = await client.waitForStatus(requester, requestId, 'REJECTED');
  const reasons = (rejected.decision as Json).reasons as string[];
  expect(rejected.status).toBe('REJECTED');
  expect([...reasons].sort()).toEqual(['effective_date_in_past', 'invalid_transition', 'tier_mismatch']);
  expect(rejected.next).toEqual({
    state: 'done',
    retryable: false,
    explanations: Object.fromEntries(reasons.map((code) => [code, explainedIn('tier_upgrade', code)])),
  });
});

it('free text without an amount: REJECTED needs_human_triage as before, and next names the missing field', async () => {
  const requestId = await client.submitOk(requester, { text: 'Create a PO for Initech for printer toner' });
  const rejected = await client.waitForStatus(requester, requestId, 'REJECTED');
  expect(rejected).toMatchObject({ status: 'REJECTED', route: 'generative', decision: { outcome: 'rejected', reasons: ['needs_human_triage'] } });
  expect(rejected.next).toEqual({
    state: 'needs_changes',
    missingFields: ['amount'],
    retryable: false,
    explanations: { needs_human_triage: CORE_EXPLANATIONS.needs_human_triage },
  });
  // The auditor's trail says so too.
  const audit = await client.getFinalAudit(requester, requestId);
  const validated = (audit.body.entries as Json[]).find((e) => e.event === 'proposal.validated');
  expect(validated?.data).toMatchObject({ missingFields: ['amount'] });
});

it('a structured request with three bad fields gets one 400 listing all three, each with its expected type', async () => {
  const response = await client.submit(requester, {
    text: 'An order with three mistakes',
    action: 'purchase_order',
    fields: { vendor: 'Initech', amount: -5, currency: 'usd' },
  });
  expectProblem(response, 400, 'validation_failed');
  expect(response.body.errors).toEqual([
    { path: 'fields.amount', message: expect.any(String), expected: expect.stringMatching(/^number > 0\b/) },
    { path: 'fields.currency', message: expect.any(String), expected: expect.stringMatching(/^ISO 4217 code/) },
    { path: 'fields.description', message: 'required', expected: 'string of 1..500 characters' },
  ]);
  for (const path of ['fields.amount', 'fields.currency', 'fields.description']) expect(response.body.detail).toContain(path);
});

it('a choice and a date name their expected values', async () => {
  const response = await client.submit(requester, {
    text: 'Upgrade with a bad tier and date',
    action: 'tier_upgrade',
    fields: { customerId: 'C-1001', currentTier: 'gold', targetTier: 'premium', effectiveDate: '01/02/2027', justification: 'they have outgrown the plan' },
  });
  expectProblem(response, 400, 'validation_failed');
  expect(response.body.errors).toEqual([
    { path: 'fields.currentTier', message: expect.any(String), expected: 'one of basic, standard, premium' },
    { path: 'fields.effectiveDate', message: expect.any(String), expected: 'YYYY-MM-DD (a real calendar date)' },
  ]);
});
