import { DeleteCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { generateKeyPairSync, sign } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { createDocumentClient } from '../../../lambdas/shared/adapters/aws/clients';
import { hashEntry, headMessage } from '../../../lambdas/shared/audit/chain';
import type { AuditEntry } from '../../../lambdas/shared/schemas/records';
import { AUDIT_SIGNING_KEY_ENV, TABLES } from '../../../lambdas/shared/tables';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../../local/emulators';
import { AUDIT_SIGNING_KEY_FILE } from '../../../local/kms';
import { useTestServer, type Json } from '../../support/http-client';

/**
 * GET /v1/requests/{id}/audit against the local stack, with the audit table then changed behind
 * Warden's back, as someone who can write the table (but not sign) would (issue 12, finding 7).
 * Before the signed head, each of these still answered `verified: true`.
 */

const requester = { sub: 'aa-alice', roles: ['support-agent'] };
const auditor = { sub: 'aa-audrey', roles: ['auditor'] };
const { client, server } = useTestServer();

const env = () => server().server.stack.env;
let doc: ReturnType<typeof createDocumentClient>;
beforeAll(() => {
  doc = createDocumentClient({ region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS, endpoint: env().AWS_ENDPOINT_URL_DYNAMODB });
});
afterAll(() => doc?.destroy());
const table = () => env()[TABLES.audit.envVar]!;

async function completedRequest(description: string): Promise<{ requestId: string; audit: Json }> {
  const requestId = await client.submitOk(requester, {
    text: `Order ${description}`,
    action: 'purchase_order',
    fields: { vendor: 'Initech', amount: 120, description },
  });
  // Finalize appends its entry after it sets the status: wait for the execution itself.
  const { engine } = server().server.stack;
  const execution = await engine.waitForEnd(`${engine.stateMachineArn.replace(':stateMachine:', ':execution:')}:${requestId}`);
  expect(execution.status).toBe('SUCCEEDED');
  const audit = await client.getAudit(auditor, requestId);
  expect(audit.status).toBe(200);
  return { requestId, audit: audit.body };
}

function rehashed(entries: AuditEntry[]): AuditEntry[] {
  const out: AuditEntry[] = [];
  for (const entry of entries) {
    const { hash: _old, ...unhashed } = { ...entry, prevHash: out.at(-1)?.hash ?? entry.prevHash };
    out.push({ ...unhashed, hash: hashEntry(unhashed) });
  }
  return out;
}

it('a completed request is verified against a head signed by the local audit key, kept 0600 in the data directory', async () => {
  const { audit } = await completedRequest('toner');
  const entries = audit.entries as Json[];
  expect(audit).toMatchObject({ verified: true, head: { seq: entries.length, hash: entries.at(-1)!.hash, keyId: env()[AUDIT_SIGNING_KEY_ENV] } });
  expect(audit.reason).toBeUndefined();
  const keyFile = await stat(join(server().server.dataDir, AUDIT_SIGNING_KEY_FILE));
  expect(keyFile.mode & 0o777).toBe(0o600);
});

it('cutting off the tail is not verified', async () => {
  const { requestId, audit } = await completedRequest('staples');
  const entries = audit.entries as Json[];
  await doc.send(new DeleteCommand({ TableName: table(), Key: { requestId, seq: entries.length } }));
  const after = (await client.getAudit(auditor, requestId)).body;
  expect(after.entries).toHaveLength(entries.length - 1);
  // The record's signed head still names the entry that was cut off.
  expect(after).toMatchObject({ verified: false, reason: 'head_mismatch' });
});

it('editing a receipt and re-hashing through to the end is not verified', async () => {
  const { requestId, audit } = await completedRequest('pens');
  const entries = (audit.entries as Omit<AuditEntry, 'requestId'>[]).map((e) => ({ ...e, requestId }));
  const executed = entries.findIndex((e) => e.step === 'Execute');
  const edited = rehashed([{ ...entries[executed]!, data: { ...entries[executed]!.data, amount: 99_999 } }, ...entries.slice(executed + 1)]);
  for (const entry of edited) await doc.send(new PutCommand({ TableName: table(), Item: entry }));
  const after = (await client.getAudit(auditor, requestId)).body;
  expect((after.entries as { data: { amount?: number } }[])[executed]!.data.amount).toBe(99_999);
  // The chain agrees with itself again; the record's signed head does not.
  expect(after).toMatchObject({ verified: false, reason: 'head_mismatch' });
});

it('a head forged with another key is not verified', async () => {
  const { requestId, audit } = await completedRequest('clips');
  const entries = (audit.entries as Omit<AuditEntry, 'requestId'>[]).map((e) => ({ ...e, requestId }));
  const last = entries.length - 1;
  // Drop the last step and put a head for the shorter chain, signed with a key of one's own, on the record.
  await doc.send(new DeleteCommand({ TableName: table(), Key: { requestId, seq: entries[last]!.seq } }));
  const forger = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
  const signature = sign('sha256', headMessage(requestId, entries[last - 1]!.seq, entries[last - 1]!.hash), forger).toString('base64');
  await doc.send(
    new UpdateCommand({
      TableName: env()[TABLES.requests.envVar]!,
      Key: { requestId },
      UpdateExpression: 'SET auditHead = :head',
      ExpressionAttributeValues: { ':head': { seq: entries[last - 1]!.seq, hash: entries[last - 1]!.hash, keyId: env()[AUDIT_SIGNING_KEY_ENV], signature } },
    }),
  );
  const after = (await client.getAudit(auditor, requestId)).body;
  expect(after.entries).toHaveLength(last);
  expect(after).toMatchObject({ verified: false, reason: 'head_signature_invalid' });
});
