import { expectProblem, startTestServer, type Json, type TestServer, type WardenClient } from '../../support/http-client';

/**
 * Who sees a request and its audit trail (API.md "Requests"), and what the trail holds: a
 * verified hash chain, one entry per step in order, each with the actor that did it.
 */

const requester = { sub: 'va-alice', roles: ['support-agent'] };
const procurement = { sub: 'va-pat', roles: ['procurement-manager'] };
const auditor = { sub: 'va-audrey', roles: ['auditor'] };
const stranger = { sub: 'va-mallory', roles: ['support-agent'] };

let t: TestServer;
let client: WardenClient;
/** The seed scenario: free text, a model proposal, a human approval, an execution. */
let approvedId: string;
let approvalToken: string;

interface Entry {
  seq: number;
  at: string;
  step: string;
  actor: { type: string; id: string };
  event: string;
  data: unknown;
  hash: string;
  prevHash: string;
}

beforeAll(async () => {
  t = await startTestServer();
  client = t.client;
  approvedId = await client.submitOk(requester, { text: 'Create a PO for Alpha Tech Systems for $7,850 of workstations' });
  const task = await client.waitForTask(procurement, approvedId);
  approvalToken = task.approvalToken;
  const decided = await client.decide(procurement, task.taskId, { decision: 'approve', approvalToken });
  if (decided.status !== 200) throw new Error(`approval failed: ${decided.status} ${decided.text}`);
  const done = await client.waitForStatus(requester, approvedId, 'COMPLETED');
  if (done.status !== 'COMPLETED') throw new Error(`the seed scenario did not complete: ${JSON.stringify(done)}`);
  await client.getFinalAudit(auditor, approvedId);
});

afterAll(async () => {
  await t?.stop();
});

const entriesOf = (audit: { body: Json }) => audit.body.entries as Entry[];

function expectChained(entries: Entry[]) {
  expect(entries.map((e) => e.seq)).toEqual(entries.map((_, i) => i + 1));
  for (let i = 1; i < entries.length; i++) {
    expect({ seq: entries[i]!.seq, prevHash: entries[i]!.prevHash }).toEqual({ seq: entries[i]!.seq, prevHash: entries[i - 1]!.hash });
  }
  expect(new Set(entries.map((e) => e.hash)).size).toBe(entries.length);
  for (const entry of entries) expect(entry.hash).toMatch(/^\S{16,}$/);
  // Appended in time order.
  const times = entries.map((e) => Date.parse(e.at));
  expect(times).toEqual([...times].sort((a, b) => a - b));
}

describe('visibility', () => {
  it('another user gets 404 on the request and on its audit, as if it did not exist', async () => {
    expectProblem(await client.getRequest(stranger, approvedId), 404, 'not_found');
    expectProblem(await client.getAudit(stranger, approvedId), 404, 'not_found');
    const unknown = await client.getRequest(stranger, 'r_doesnotexist0000000000');
    expectProblem(unknown, 404, 'not_found');
    // Indistinguishable from an id that does not exist.
    expect((await client.getRequest(stranger, approvedId)).body).toEqual(unknown.body);
  });

  it('the approver who decided it is "anyone else" too: 404 on the request and its audit', async () => {
    expectProblem(await client.getRequest(procurement, approvedId), 404, 'not_found');
    expectProblem(await client.getAudit(procurement, approvedId), 404, 'not_found');
  });

  it('an auditor gets 200 on both, the same request the requester sees', async () => {
    const asAuditor = await client.getRequest(auditor, approvedId);
    const asRequester = await client.getRequest(requester, approvedId);
    expect(asAuditor.status).toBe(200);
    expect(asAuditor.body).toEqual(asRequester.body);
    const audit = await client.getAudit(auditor, approvedId);
    expect(audit.status).toBe(200);
    expect(audit.body).toEqual((await client.getAudit(requester, approvedId)).body);
  });

  it('a request shows only the fields API.md lists, nothing internal', async () => {
    const request = (await client.getRequest(requester, approvedId)).body;
    const allowed = ['requestId', 'status', 'requestedBy', 'createdAt', 'updatedAt', 'action', 'route', 'model', 'proposal', 'decision', 'approval', 'result', 'error', 'next'];
    expect(Object.keys(request).filter((k) => !allowed.includes(k))).toEqual([]);
    const nextAllowed = ['state', 'waitingFor', 'missingFields', 'retryable', 'explanations'];
    expect(Object.keys(request.next as Json).filter((k) => !nextAllowed.includes(k))).toEqual([]);
    expect(request).toMatchObject({ model: { provider: 'rules', id: expect.any(String), inputTokens: expect.any(Number), outputTokens: expect.any(Number), costUsd: expect.any(Number) } });
  });
});

describe('the audit trail', () => {
  it('of the seed scenario is verified, chained, in step order, with who did each step', async () => {
    const audit = await client.getAudit(requester, approvedId);
    expect(audit.status).toBe(200);
    expect(audit.body).toMatchObject({ requestId: approvedId, verified: true });
    const entries = entriesOf(audit);
    expectChained(entries);

    expect(entries.map((e) => e.step)).toEqual(['Submit', 'Triage', 'Inference', 'Validate', 'AwaitApproval', 'Approval', 'Execute', 'Finalize']);
    expect(entries.map((e) => [e.step, e.actor.type])).toEqual([
      ['Submit', 'human'],
      ['Triage', 'system'],
      ['Inference', 'model'],
      ['Validate', 'system'],
      ['AwaitApproval', 'system'],
      ['Approval', 'human'],
      ['Execute', 'system'],
      ['Finalize', 'system'],
    ]);
    const actor = (step: string) => entries.find((e) => e.step === step)?.actor;
    expect(actor('Submit')).toEqual({ type: 'human', id: requester.sub });
    expect(actor('Approval')).toEqual({ type: 'human', id: procurement.sub });
    expect(actor('Inference')?.id).toMatch(/rules/);
    for (const entry of entries) expect(entry).toEqual(expect.objectContaining({ event: expect.any(String), at: expect.any(String) }));
  });

  it('never holds the approval token (or any task token)', async () => {
    const audit = await client.getAudit(auditor, approvedId);
    expect(audit.text).not.toContain(approvalToken);
    expect(audit.text).not.toMatch(/taskToken/i);
  });

  it('of a structured request has no model step and no model on the request', async () => {
    const requestId = await client.submitOk(requester, {
      text: 'Paper for the printers',
      action: 'purchase_order',
      fields: { vendor: 'Initech', amount: 210, description: 'printer paper' },
    });
    const done = await client.waitForStatus(requester, requestId, 'COMPLETED');
    expect(done).toMatchObject({ status: 'COMPLETED', route: 'deterministic' });
    expect(done.model).toBeUndefined();

    const audit = await client.getFinalAudit(auditor, requestId);
    expect(audit.body.verified).toBe(true);
    const entries = entriesOf(audit);
    expectChained(entries);
    expect(entries.map((e) => e.step)).toEqual(['Submit', 'Triage', 'Validate', 'Execute', 'Finalize']);
    expect(entries.filter((e) => e.actor.type === 'model')).toEqual([]);
    expect(entries.filter((e) => e.actor.type === 'human').map((e) => e.actor.id)).toEqual([requester.sub]);
  });

  it('of a policy rejection stops at Validate, with nothing executed', async () => {
    const requestId = await client.submitOk(requester, {
      text: 'Too much',
      action: 'purchase_order',
      fields: { vendor: 'Initech', amount: 5_000_000, description: 'a campus' },
    });
    await client.waitForStatus(requester, requestId, 'REJECTED');
    const audit = await client.getFinalAudit(requester, requestId);
    expect(audit.body.verified).toBe(true);
    const steps = entriesOf(audit).map((e) => e.step);
    expect(steps.slice(0, 3)).toEqual(['Submit', 'Triage', 'Validate']);
    expect(steps).not.toContain('Execute');
    expect(steps).not.toContain('AwaitApproval');
  });
});
