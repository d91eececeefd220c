// The demo prints the story; the handlers' JSON logs would bury it.
process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT';

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../scripts/cli';
import { startLocalServer, type LocalServer } from './server';

/**
 * `npm run demo`: the seed scenario end to end against a fresh local stack, over HTTP, as a
 * user would drive it — a $7,850 purchase order pauses for a procurement manager, who approves
 * it; it executes; its audit trail verifies. Then a $1,200 order completes on its own.
 */

const COMMAND = {
  command: 'npm run demo --',
  summary:
    'The seed scenario against a fresh local stack in a temporary data directory, over HTTP: a $7,850 purchase order\n' +
    'waits for a procurement manager, who approves it; its audit trail verifies; a $1,200 order completes on its own.',
  options: {},
  examples: ['npm run demo'],
  exitStatus: { 1: 'a step of the scenario failed' },
};

type Json = Record<string, unknown>;

async function call(server: LocalServer, token: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: Json }> {
  const response = await fetch(`${server.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: response.status, body: (await response.json()) as Json };
}

async function until<T>(what: string, probe: () => Promise<T | undefined>): Promise<T> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const value = await probe();
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}

function show(title: string, value: unknown): void {
  console.log(`\n== ${title}\n${JSON.stringify(value, null, 2)}`);
}

async function requestReaching(server: LocalServer, token: string, requestId: string, statuses: string[]): Promise<Json> {
  return until(`request ${requestId} to reach ${statuses.join('/')}`, async () => {
    const { body } = await call(server, token, 'GET', `/v1/requests/${requestId}`);
    return statuses.includes(String(body.status)) ? body : undefined;
  });
}

async function main(): Promise<void> {
  const dataDir = await mkdtemp(join(tmpdir(), 'warden-demo-'));
  const server = await startLocalServer({ dataDir, functions: 'worker' });
  try {
    console.log(`Warden demo against a fresh local stack at ${server.url}`);
    const requester = await server.mintToken('requester-1', ['support-agent']);
    const approver = await server.mintToken('approver-procurement', ['procurement-manager']);
    const auditor = await server.mintToken('auditor-1', ['auditor']);

    const text = 'Create a PO for Alpha Tech Systems for $7,850 of workstations';
    const submitted = await call(server, requester, 'POST', '/v1/requests', { text });
    show(`1. requester-1 submits "${text}" → ${submitted.status}`, submitted.body);
    const requestId = String(submitted.body.requestId);

    const pending = await requestReaching(server, requester, requestId, ['PENDING_APPROVAL', 'COMPLETED', 'REJECTED', 'FAILED']);
    show(`2. the request pauses: ${String(pending.status)}`, { route: pending.route, proposal: pending.proposal, decision: pending.decision });

    const task = await until('the approval task', async () => {
      const { body } = await call(server, approver, 'GET', '/v1/tasks');
      return (body.tasks as Json[]).find((t) => t.requestId === requestId);
    });
    show('3. approver-procurement lists the task (procurement-manager tier)', task);

    const decided = await call(server, approver, 'POST', `/v1/tasks/${String(task.taskId)}/decision`, {
      decision: 'approve',
      approvalToken: task.approvalToken,
      comment: 'Budgeted in Q1.',
    });
    show(`4. approver-procurement approves → ${decided.status}`, decided.body);

    const completed = await requestReaching(server, requester, requestId, ['COMPLETED', 'REJECTED', 'FAILED', 'EXPIRED']);
    show(`5. executed once: ${String(completed.status)}`, { approval: completed.approval, result: completed.result });

    const audit = await call(server, auditor, 'GET', `/v1/requests/${requestId}/audit`);
    console.log(`\n== 6. audit trail (verified: ${String(audit.body.verified)})`);
    for (const entry of audit.body.entries as Json[]) {
      const actor = entry.actor as Json;
      console.log(`  ${String(entry.seq).padStart(2)}  ${String(entry.step).padEnd(14)} ${`${String(actor.type)}:${String(actor.id)}`.padEnd(30)} ${String(entry.event)}`);
    }

    const small = 'Create a purchase order for Globex Corporation for $1,200 of office chairs';
    const second = await call(server, requester, 'POST', '/v1/requests', { text: small });
    const done = await requestReaching(server, requester, String(second.body.requestId), ['COMPLETED', 'REJECTED', 'FAILED', 'PENDING_APPROVAL']);
    show(`7. "${small}" → ${String(done.status)} without a human`, { decision: done.decision, result: done.result });
  } finally {
    await server.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

void runCli(COMMAND, main);
