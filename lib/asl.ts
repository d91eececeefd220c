import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The governed-request ASL file is the orchestration, for CDK and for local mode alike. The one
 * value it takes from configuration that is not a string is the approval wait's TimeoutSeconds
 * (a `${Placeholder}` cannot stand where JSON needs a number), so both apply it here.
 */

export const GOVERNED_REQUEST_ASL_PATH = join(__dirname, '..', 'statemachines', 'governed-request.asl.json');

interface AslState {
  Type: string;
  Resource?: string;
  TimeoutSeconds?: number;
}

export function isCallbackTask(state: AslState): boolean {
  return state.Type === 'Task' && typeof state.Resource === 'string' && state.Resource.endsWith('.waitForTaskToken');
}

/** The ASL text with every `.waitForTaskToken` state's TimeoutSeconds set; placeholders untouched. */
export function governedRequestDefinition(approvalTimeoutSeconds: number, fileText = readFileSync(GOVERNED_REQUEST_ASL_PATH, 'utf8')): string {
  if (!Number.isInteger(approvalTimeoutSeconds) || approvalTimeoutSeconds < 1) {
    throw new Error(`approvalTimeoutSeconds must be a positive integer, got ${approvalTimeoutSeconds}`);
  }
  const definition = JSON.parse(fileText) as { States: Record<string, AslState> };
  const waits = Object.values(definition.States).filter(isCallbackTask);
  if (waits.length === 0) throw new Error('the governed-request ASL has no .waitForTaskToken state');
  for (const state of waits) state.TimeoutSeconds = approvalTimeoutSeconds;
  return JSON.stringify(definition, null, 2);
}
