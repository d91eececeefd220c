import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { InvalidInput, OrchestratorUnavailable } from '../../../lambdas/shared/errors';
import type { Orchestrator } from '../../../lambdas/shared/ports';
import { submitRequest, type SubmitDeps } from '../../../lambdas/shared/requests/submit';
import type { WorkflowState } from '../../../lambdas/shared/schemas/workflow';
import { useEmulatedStores } from '../../support/stores';

/**
 * POST /v1/requests behind the handler, against the real stores: what is recorded, audited and
 * started, and what an Idempotency-Key replay answers.
 */

const stores = useEmulatedStores();

/** The outbound port to Step Functions: records what it was asked to start, by name. */
class StartRecorder implements Orchestrator {
  readonly started = new Map<string, WorkflowState>();
  failNext = false;
  async start(requestId: string, input: WorkflowState): Promise<string> {
    if (this.failNext) {
      this.failNext = false;
      throw new OrchestratorUnavailable();
    }
    this.started.set(requestId, input); // by name: starting twice is one execution, as in AWS
    return `arn:aws:states:us-east-1:000000000000:execution:warden:${requestId}`;
  }
  async resume(): Promise<void> {}
}

const alice = { sub: 'alice', roles: ['support-agent'] };
const po = { text: 'Chairs', action: 'purchase_order' as const, fields: { vendor: 'Globex Corporation', amount: 1200, description: 'chairs' } };

function deps(orchestrator: Orchestrator): SubmitDeps {
  const s = stores();
  return { requests: s.requests, audit: s.audit, idempotency: s.idempotency, orchestrator, clock: s.clock, approvalTimeoutSeconds: 60 };
}

it('records the request QUEUED, audits it, and starts one execution with the scrubbed text', async () => {
  const orchestrator = new StartRecorder();
  const submitted = await submitRequest(
    alice,
    { ...po, text: 'Chairs, questions to bob@example.com', fields: { ...po.fields, description: 'chairs for bob@example.com' } },
    { traceId: 't-1' },
    deps(orchestrator),
  );
  expect(submitted.statusCode).toBe(202);
  const { requestId } = submitted.body;
  const record = await stores().requests.get(requestId);
  expect(record).toMatchObject({ status: 'QUEUED', requestedBy: 'alice', action: 'purchase_order', executionArn: expect.stringContaining(requestId) });
  const input = orchestrator.started.get(requestId)!;
  expect(input.text).toBe('Chairs, questions to [EMAIL_1]');
  expect(input.submitted?.fields).toMatchObject({ description: 'chairs for [EMAIL_1]', currency: 'USD' });
  expect(input.approvalTimeoutSeconds).toBe(60);
  const audit = await stores().audit.list(requestId);
  expect(audit.map((e) => [e.step, e.actor])).toEqual([['Submit', { type: 'human', id: 'alice' }]]);
  expect(JSON.stringify(audit)).not.toContain('bob@example.com');
});

it('answers a replay with the same key and body with the same request, starting nothing new', async () => {
  const orchestrator = new StartRecorder();
  const first = await submitRequest(alice, po, { idempotencyKey: 'k-same', traceId: 't' }, deps(orchestrator));
  const again = await submitRequest(alice, po, { idempotencyKey: 'k-same', traceId: 't' }, deps(orchestrator));
  expect(first.statusCode).toBe(202);
  expect(again.statusCode).toBe(200);
  expect(again.body.requestId).toBe(first.body.requestId);
  expect(orchestrator.started.size).toBe(1);
});

it('refuses the same key with a different body (409) and keeps keys per principal', async () => {
  const orchestrator = new StartRecorder();
  const first = await submitRequest(alice, po, { idempotencyKey: 'k-diff', traceId: 't' }, deps(orchestrator));
  await expect(
    submitRequest(alice, { ...po, fields: { ...po.fields, amount: 1300 } }, { idempotencyKey: 'k-diff', traceId: 't' }, deps(orchestrator)),
  ).rejects.toMatchObject({ status: 409, code: 'idempotency_key_reused' });
  const bob = await submitRequest({ sub: 'bob', roles: [] }, po, { idempotencyKey: 'k-diff', traceId: 't' }, deps(orchestrator));
  expect(bob.body.requestId).not.toBe(first.body.requestId);
});

it('lets a client retry with its key after the orchestrator was unavailable', async () => {
  const orchestrator = new StartRecorder();
  orchestrator.failNext = true;
  await expect(submitRequest(alice, po, { idempotencyKey: 'k-retry', traceId: 't' }, deps(orchestrator))).rejects.toBeInstanceOf(
    OrchestratorUnavailable,
  );
  const retried = await submitRequest(alice, po, { idempotencyKey: 'k-retry', traceId: 't' }, deps(orchestrator));
  expect(retried.statusCode).toBe(202);
  expect(orchestrator.started.has(retried.body.requestId)).toBe(true);
});

it('starts, on replay, a request whose first attempt was recorded but never started', async () => {
  const orchestrator = new StartRecorder();
  const first = await submitRequest(alice, po, { idempotencyKey: 'k-crash', traceId: 't' }, deps(orchestrator));
  // As if the first attempt had died between recording the request and starting its execution.
  orchestrator.started.clear();
  const { executionArn: _dropped, ...withoutArn } = (await stores().requests.get(first.body.requestId))!;
  await stores().doc.send(new PutCommand({ TableName: stores().emulators.tableNames.requests, Item: withoutArn }));
  // A replay while the first attempt could still be running leaves the start to it…
  const early = await submitRequest(alice, po, { idempotencyKey: 'k-crash', traceId: 't' }, deps(orchestrator));
  expect(early).toMatchObject({ statusCode: 200, body: { requestId: first.body.requestId, status: 'QUEUED' } });
  expect(orchestrator.started.size).toBe(0);
  // …one after it must have died starts the execution.
  stores().clock.advance(120_000);
  const replay = await submitRequest(alice, po, { idempotencyKey: 'k-crash', traceId: 't' }, deps(orchestrator));
  expect(replay).toMatchObject({ statusCode: 200, body: { requestId: first.body.requestId } });
  expect(orchestrator.started.has(first.body.requestId)).toBe(true);
  expect((await stores().requests.get(first.body.requestId))?.executionArn).toContain(first.body.requestId);
});

it('refuses what can be refused at once: permission (403) and the fields schema (400 with the path)', async () => {
  const orchestrator = new StartRecorder();
  await expect(
    submitRequest({ sub: 'carol', roles: [] }, { text: 'refund', action: 'refund' }, { traceId: 't' }, deps(orchestrator)),
  ).rejects.toEqual(expect.objectContaining({ status: 403, code: 'action_not_permitted' }));
  const bad = submitRequest(alice, { ...po, fields: { ...po.fields, amount: -5 } }, { traceId: 't' }, deps(orchestrator));
  await expect(bad).rejects.toBeInstanceOf(InvalidInput);
  await expect(bad).rejects.toThrow(/fields\.amount/);
  await expect(submitRequest(alice, { text: 'x', fields: { a: 1 } }, { traceId: 't' }, deps(orchestrator))).rejects.toThrow(/requires action/);
  expect(orchestrator.started.size).toBe(0);
});
