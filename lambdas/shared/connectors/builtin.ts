import { actionDefinition } from '../catalog/registry';
import type { BuiltinConnector } from '../catalog/define';
import { InvalidWorkflowState } from '../errors';
import type { RecordReader, RecordTable } from '../ports';
import type { ActionName, Proposal } from '../schemas/actions';
import type { EffectReceipt } from '../schemas/workflow';

/**
 * Warden's example system of record as a connector: each action's part of it is in its catalog
 * folder (`builtin.ts`), found here by name.
 */
function builtinOf(action: ActionName): BuiltinConnector<Record<string, unknown>> {
  const builtin = actionDefinition(action).builtin as BuiltinConnector<Record<string, unknown>> | undefined;
  // Configuration refuses `builtin` for an action without one; reaching here is a wiring bug.
  if (!builtin) throw new InvalidWorkflowState(`${action} has no builtin connector`);
  return builtin;
}

export function readBuiltinFacts(proposal: Proposal, records: RecordReader): Promise<unknown> {
  return builtinOf(proposal.action).facts(proposal.fields, records);
}

export async function applyBuiltinEffect(proposal: Proposal, records: RecordTable, request: { requestId: string; at: string }): Promise<EffectReceipt> {
  return (await builtinOf(proposal.action).effect({ ...request, fields: proposal.fields }, records)) as EffectReceipt;
}

/** Whether the action brings its part of the example system of record. */
export function hasBuiltin(action: ActionName): boolean {
  return actionDefinition(action).builtin !== undefined;
}
