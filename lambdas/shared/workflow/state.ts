import { InvalidWorkflowState } from '../errors';
import type { PiiOriginals, PiiVault, RequestStore } from '../ports';
import type { RequestRecord } from '../schemas/records';
import { WorkflowState } from '../schemas/workflow';
import { runningPatch } from './record';

/**
 * What the workflow's steps share: the state they parse, the record write of a running step,
 * the vaulted PII. Each step is a module of its own (./triage-step, …), so that a handler loads
 * the code of its step and not the others' (triage's text reading in Execute, say).
 */

export function parseState(input: unknown): WorkflowState {
  const parsed = WorkflowState.safeParse(input);
  if (!parsed.success) {
    throw new InvalidWorkflowState(`workflow state does not match its schema: ${parsed.error.issues.map((i) => i.path.join('.')).join(', ')}`);
  }
  return parsed.data;
}

export const system = (id: string) => ({ type: 'system' as const, id });

/**
 * The step's record write with the route and RUNNING: only while the request is queued or running.
 * A step that outlives its execution (stopped during a model call, say) finds the request ended by
 * Finalize and leaves it as it ended.
 */
export async function writeRunning(requests: RequestStore, state: WorkflowState, patch: Partial<RequestRecord>): Promise<void> {
  const running = runningPatch(state);
  if (running.status === undefined) {
    await requests.update(state.requestId, patch);
    return;
  }
  await requests.updateIf(state.requestId, { ...running, ...patch }, ['QUEUED', 'RUNNING']);
}

/** The originals the inbound shield vaulted for this request (none when it vaulted nothing). */
export async function vaultedOriginals(state: WorkflowState, vault: PiiVault | undefined): Promise<PiiOriginals> {
  if (!state.shield?.vaulted) return {};
  if (!vault) throw new InvalidWorkflowState('the request has vaulted PII but the step has no vault');
  return vault.getVault(state.requestId);
}
