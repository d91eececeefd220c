import type { KMSClient } from '@aws-sdk/client-kms';
import type { SFNClient } from '@aws-sdk/client-sfn';
import type { S3Client } from '@aws-sdk/client-s3';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import fc from 'fast-check';
import { DynamoAuditLog } from '../../lambdas/shared/adapters/aws/auditLog';
import { KmsAuditSigner } from '../../lambdas/shared/adapters/aws/auditSigner';
import { SfnOrchestrator } from '../../lambdas/shared/adapters/aws/orchestrator';
import { DynamoRequestStore } from '../../lambdas/shared/adapters/aws/requestStore';
import { S3StateStore } from '../../lambdas/shared/adapters/aws/stateStore';
import { DynamoSystemOfRecord } from '../../lambdas/shared/adapters/aws/systemOfRecord';
import { DynamoTaskIndex } from '../../lambdas/shared/adapters/aws/taskIndex';
import { AuditWriteFailed, InvalidInput, NotFound } from '../../lambdas/shared/errors';
import { API_ROUTES } from '../../local/http';
import { aPendingTask, aRequestRecord, aWorkflowState } from '../support/fixtures';
import { startTestServer, type TestServer } from '../support/http-client';
import { percentEncodeAll, problemsWith, RawHttp } from '../fuzz/support/raw-http';

/**
 * Invariant (issue 4, DESIGN.md §6): an id that is not `^[A-Za-z0-9_-]{1,64}$` never becomes an
 * S3 key or a DynamoDB key. Checked twice: on the adapters, with clients that record every
 * command (none may be sent), and on the local HTTP API, where every route with an id answers
 * 400 or 404 problem+json — never a 500.
 */

const SEED = 6_4;
/** DESIGN.md §6, written here again: the test's own definition of a valid id. */
const VALID_ID = /^[A-Za-z0-9_-]{1,64}$/;

const HOSTILE_CONSTANTS = [
  '',
  '.',
  '..',
  '../../etc/passwd',
  '..\\..\\windows',
  '%2e%2e',
  '/',
  'r_1/../r_2',
  'checkpoints/r_1/t_1.json',
  ' ',
  'r_1 ',
  "'",
  '"',
  "' OR '1'='1",
  'r_1"}',
  '${jndi:ldap://x}',
  '<script>alert(1)</script>',
  '\u0000',
  'r_1\u0000',
  'r_1\n',
  'x'.repeat(65),
  'x'.repeat(300),
  'é',
  'r_\u00E9',
  '\u{1F600}',
  'r_\u202Eabc',
  '\uFF52\uFF3F\uFF11', // full-width "r_1": NFKC would make it valid
  'r_1%00',
  'a%2Fb',
  'r.1',
  'r:1',
  'r#1',
  'r?1',
  'r*',
];

/** Strings that are not valid ids, from the list above and from every corner of Unicode. */
const hostileIdArb = fc
  .oneof(
    { weight: 3, arbitrary: fc.constantFrom(...HOSTILE_CONSTANTS) },
    { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 80 }) },
    { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 20 }) },
    { weight: 1, arbitrary: fc.stringMatching(/^[A-Za-z0-9_-]{65,300}$/) },
    { weight: 1, arbitrary: fc.tuple(fc.stringMatching(/^[A-Za-z0-9_-]{1,30}$/), fc.constantFrom('/', '.', ' ', '\u0000', '%', '\\', '\u200B', 'ß')).map(([id, bad]) => `${id}${bad}${id}`) },
  )
  .filter((id) => !VALID_ID.test(id));

// ---------------------------------------------------------------------------------------------
// The adapters

/** A client whose every command is recorded and answered with an empty result. */
function recordingClient(): { client: { send: (command: object) => Promise<Record<string, unknown>> }; sent: string[] } {
  const sent: string[] = [];
  return {
    sent,
    client: {
      send: async (command: object) => {
        sent.push(command.constructor.name);
        // An empty table, as DynamoDB answers it: nothing found, and a conditional write on a missing item fails its condition.
        if ((command as { input?: { ConditionExpression?: string } }).input?.ConditionExpression) {
          throw Object.assign(new Error('The conditional request failed'), { name: 'ConditionalCheckFailedException' });
        }
        return {};
      },
    },
  };
}

function adapters() {
  const dynamo = recordingClient();
  const s3 = recordingClient();
  const sfn = recordingClient();
  const kms = recordingClient();
  const doc = dynamo.client as unknown as DynamoDBDocumentClient;
  return {
    sent: () => [...dynamo.sent, ...s3.sent, ...sfn.sent, ...kms.sent],
    requests: new DynamoRequestStore(doc, 'requests'),
    tasks: new DynamoTaskIndex(doc, 'tasks'),
    audit: new DynamoAuditLog(doc, 'audit', new KmsAuditSigner(kms.client as unknown as KMSClient, 'arn:aws:kms:us-east-1:123456789012:key/audit')),
    records: new DynamoSystemOfRecord(doc, 'records'),
    state: new S3StateStore(s3.client as unknown as S3Client, 'bucket'),
    orchestrator: new SfnOrchestrator(sfn.client as unknown as SFNClient, 'arn:aws:states:us-east-1:123456789012:stateMachine:warden'),
  };
}

/** Every adapter operation that takes an id, each expected to refuse the id before any command. */
async function everyIdOperation(a: ReturnType<typeof adapters>, id: string): Promise<void> {
  const state = aWorkflowState({ requestId: 'r_valid1' });
  const proposal = state.proposal;
  if (!proposal) throw new Error('fixture has a proposal');
  // Reads of an unknown-shaped id: nothing found.
  expect(await a.requests.get(id)).toBeUndefined();
  expect(await a.tasks.get(id)).toBeUndefined();
  expect(await a.audit.list(id)).toEqual([]);
  expect((await a.audit.trail(id)).entries).toEqual([]);
  expect(await a.records.getCustomer(id)).toBeUndefined();
  expect(await a.records.getOrder(id)).toBeUndefined();
  // Writes: refused with a named error, or a no-op where the caller must not learn more.
  await expect(a.requests.create(aRequestRecord({ requestId: id }))).rejects.toBeInstanceOf(InvalidInput);
  await expect(a.requests.update(id, { status: 'RUNNING' })).rejects.toBeInstanceOf(NotFound);
  await expect(a.tasks.putPending(aPendingTask({ taskId: id }))).rejects.toBeInstanceOf(InvalidInput);
  expect(
    await a.tasks.consumeApprovalToken({ taskId: id, approvalToken: 'token', status: 'APPROVED', decidedBy: 'approver-1', decidedAt: new Date().toISOString() }),
  ).toBeUndefined();
  await a.tasks.releaseDecision(id, 'approver-1');
  await a.tasks.markExpired(id);
  await expect(a.audit.append(id, { step: 'Triage', actor: { type: 'system', id: 'triage' }, event: 'request.triaged', data: {} })).rejects.toBeInstanceOf(AuditWriteFailed);
  await expect(a.records.execute({ requestId: id, fingerprint: 'f'.repeat(64), proposal, at: new Date().toISOString() })).rejects.toBeInstanceOf(InvalidInput);
  await expect(a.state.putCheckpoint(id, 't_valid1', aWorkflowState({ requestId: 'r_valid1' }))).rejects.toBeInstanceOf(InvalidInput);
  await expect(a.state.putCheckpoint('r_valid1', id, state)).rejects.toBeInstanceOf(InvalidInput);
  await expect(a.state.getCheckpoint(`checkpoints/${id}/t_valid1.json`)).rejects.toBeInstanceOf(InvalidInput);
  await expect(a.state.getCheckpoint(`checkpoints/r_valid1/${id}.json`)).rejects.toBeInstanceOf(InvalidInput);
  await expect(a.orchestrator.start(id, state)).rejects.toBeInstanceOf(InvalidInput);
}

describe('the adapters refuse hostile ids before any key is built', () => {
  it('sends nothing to DynamoDB, S3 or Step Functions for 500 hostile ids', async () => {
    await fc.assert(
      fc.asyncProperty(hostileIdArb, async (id) => {
        const a = adapters();
        await everyIdOperation(a, id);
        expect({ id, sent: a.sent() }).toEqual({ id, sent: [] });
      }),
      { numRuns: 500, seed: SEED, endOnFailure: true },
    );
  });

  it('does send for a valid id (the recording clients see what the adapters do)', async () => {
    const a = adapters();
    expect(await a.requests.get('r_valid1')).toBeUndefined();
    expect(await a.tasks.get('t_valid1')).toBeUndefined();
    expect(await a.audit.list('r_valid1')).toEqual([]);
    expect(await a.records.getOrder('O-5001')).toBeUndefined();
    await a.tasks.markExpired('t_valid1');
    expect(a.sent()).toEqual(['GetCommand', 'GetCommand', 'QueryCommand', 'GetCommand', 'UpdateCommand']);
  });
});

// ---------------------------------------------------------------------------------------------
// The HTTP API

const ID_ROUTES = API_ROUTES.filter((route) => /\{\w+\}/.test(route.path));

/** How a client might put the id on the wire. */
const onTheWire = fc.constantFrom<(id: string) => string | undefined>(
  (id) => percentEncodeAll(id),
  (id) => {
    try {
      return encodeURIComponent(id);
    } catch {
      return undefined; // a lone surrogate: not sendable this way
    }
  },
  // As typed, when it is printable ASCII a request line can carry (quotes, dots, backslashes).
  (id) => (/^[\x21-\x7E]*$/.test(id) && !/[/?#%]/.test(id) ? id : undefined),
  // Encoded twice, as a confused proxy would.
  (id) => encodeURIComponent(percentEncodeAll(id)),
);

describe('the local HTTP API answers hostile ids with 400 or 404 problem+json', () => {
  let t: TestServer;
  let http: RawHttp;
  let token: string;

  beforeAll(async () => {
    t = await startTestServer();
    http = new RawHttp(t.server.url);
    // Every role there is: whatever a handler does with a caller, it gets to do it.
    token = await t.server.mintToken('hostile-ids', ['support-agent', 'auditor', 'procurement-manager', 'finance-director', 'support-lead', 'account-manager']);
  });

  afterAll(async () => {
    http?.close();
    await t?.stop();
  });

  it('covers every route of API.md that takes an id', () => {
    expect(ID_ROUTES.map((r) => `${r.method} ${r.path}`).sort()).toEqual([
      'GET /v1/requests/{requestId}',
      'GET /v1/requests/{requestId}/audit',
      'GET /v1/tasks/{taskId}',
      'POST /v1/tasks/{taskId}/decision',
    ]);
  });

  it.each(ID_ROUTES.map((route) => [`${route.method} ${route.path}`, route] as const))('%s: 200 hostile ids, never a 500', async (_key, route) => {
    await fc.assert(
      fc.asyncProperty(hostileIdArb, onTheWire, async (id, encode) => {
        const segment = encode(id);
        fc.pre(segment !== undefined);
        const path = route.path.replace(/\{\w+\}/, segment as string);
        const response = await http.send({
          method: route.method,
          path,
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          ...(route.method === 'POST' ? { body: JSON.stringify({ decision: 'approve', approvalToken: 'not-a-real-token-123456' }) } : {}),
        });
        const problems = problemsWith(response, [token]);
        if (![400, 404].includes(response.status)) problems.push(`status ${response.status}, not 400 or 404`);
        expect({ path, problems }).toEqual({ path, problems: [] });
      }),
      { numRuns: 200, seed: SEED, endOnFailure: true },
    );
  });

  it('still answers a well-formed id it does not know with 404 (the routes are live)', async () => {
    for (const route of ID_ROUTES) {
      const response = await http.send({
        method: route.method,
        path: route.path.replace(/\{\w+\}/, 'r_doesnotexist1'),
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        ...(route.method === 'POST' ? { body: JSON.stringify({ decision: 'approve', approvalToken: 'x' }) } : {}),
      });
      expect({ route: route.path, status: response.status, problems: problemsWith(response, [token]) }).toEqual({ route: route.path, status: 404, problems: [] });
    }
  });
});
