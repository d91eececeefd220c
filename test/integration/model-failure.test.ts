import { createServer, type Http2Server } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { captureOutput, type CapturedOutput } from '../support/capture-output';
import type { Caller, Json, TestServer } from '../support/http-client';

/**
 * A free-text request through the whole local stack (gateway, local Step Functions running the
 * ASL file, the real handlers) with the Bedrock provider, against a local server answering
 * Converse as Bedrock does when the role may not invoke the model: the request ends FAILED
 * `model_access_denied`, without a pointless retry, and the log line and the audit entry name
 * the cause class — with no request text, and none of what the service said, in any log line.
 */

const REQUEST_TEXT = 'Create a PO for Alpha Tech Systems for $7,850 of ergonomic workstations for the Lisbon office';
const ROLE_ARN = 'arn:aws:sts::123456789012:assumed-role/warden-inference/session';
const MODEL = 'us.anthropic.claude-haiku-4-5-20251001-v1:0';

const requester: Caller = { sub: 'model-failure-alice', roles: ['support-agent'] };

const savedEnv = { ...process.env };
let bedrock: Http2Server;
let converseCalls = 0;
let t: TestServer;
let output: CapturedOutput;

beforeAll(async () => {
  // Bedrock as it answers a role without bedrock:InvokeModel on the model (REST-JSON over HTTP/2).
  bedrock = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      converseCalls++;
      res.writeHead(403, { 'content-type': 'application/json', 'x-amzn-errortype': 'AccessDeniedException:http://internal.amazon.com/coral/com.amazon.bedrock/' });
      res.end(JSON.stringify({ message: `User: ${ROLE_ARN} is not authorized to perform: bedrock:InvokeModel on resource: ${MODEL}` }));
    });
  });
  await new Promise<void>((resolve) => bedrock.listen(0, '127.0.0.1', resolve));

  process.env.POWERTOOLS_LOG_LEVEL = 'DEBUG';
  process.env.MODEL_ID_LOW = MODEL;
  process.env.MODEL_ID_HIGH = MODEL;
  process.env.AWS_ENDPOINT_URL_BEDROCK_RUNTIME = `http://127.0.0.1:${(bedrock.address() as AddressInfo).port}`;
  // The caller's own credentials (local mode signs the Bedrock call with them, not the emulators').
  process.env.AWS_ACCESS_KEY_ID = 'AKIDCALLERTEST';
  process.env.AWS_SECRET_ACCESS_KEY = 'caller-test-secret';
  output = captureOutput();
  await import('../../lambdas/shared/observability');
  const { startTestServer } = await import('../support/http-client');
  t = await startTestServer({ modelProvider: 'bedrock' });
}, 60_000);

afterAll(async () => {
  await t?.stop();
  await new Promise<void>((resolve) => bedrock.close(() => resolve()));
  output?.restore();
  process.env = savedEnv;
});

/** Every structured log line written so far. */
function logLines(): Json[] {
  return output.jsonLines<Json>();
}

it('a free-text request ends FAILED model_access_denied; the log line and the audit name the cause; no log holds the request text', async () => {
  const requestId = await t.client.submitOk(requester, { text: REQUEST_TEXT });
  const request = await t.client.waitForStatus(requester, requestId, 'FAILED');

  expect(request).toMatchObject({
    status: 'FAILED',
    route: 'generative',
    error: { code: 'model_access_denied', message: 'The model could not be called (access_denied); nothing was executed for it.' },
  });
  // Not retried: not by the provider, not by the state machine (ModelAccessDenied is no transient error).
  expect(converseCalls).toBe(1);

  const audit = await t.client.getAudit(requester, requestId);
  expect(audit.status).toBe(200);
  const entries = audit.body.entries as Json[];
  expect(entries.map((entry) => entry.step)).toEqual(['Submit', 'Triage', 'MarkFailed']);
  expect(entries.at(-1)?.data).toEqual({ status: 'FAILED', error: 'model_access_denied', failedWith: 'ModelAccessDenied', cause: 'access_denied' });

  const failed = logLines().filter((line) => line.message === 'request failed' && line.requestId === requestId);
  expect(failed).toHaveLength(1);
  expect(failed[0]).toMatchObject({ level: 'ERROR', failedWith: 'ModelAccessDenied', code: 'model_access_denied', cause: 'access_denied', status: 'FAILED' });

  const everything = output.text();
  expect(everything).toContain(requestId);
  for (const secret of ['Lisbon', 'ergonomic workstations', ROLE_ARN, '123456789012']) expect(everything).not.toContain(secret);
}, 30_000);
