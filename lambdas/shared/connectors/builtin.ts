import { actionDefinition } from '../catalog/registry';
import type { BuiltinConnector, FactsContext } from '../catalog/define';
import { ConnectorFailed } from '../errors';
import type { RecordReader, RecordTable } from '../ports';
import type { ActionName, Proposal } from '../schemas/actions';
import type { EffectReceipt } from '../schemas/workflow';

/**
 * Warden's example system of record as a connector: each action's part of it is in its catalog
 * folder (`builtin.ts`), found here by name.
 */
function builtinOf(action: ActionName, name: string): BuiltinConnector<Record<string, unknown>> {
  const builtin = actionDefinition(action).builtin as BuiltinConnector<Record<string, unknown>> | undefined;
  // Configuration refuses `builtin` named for an action without one, but leaves such an action
  // unconfigured when it is not named: its requests fail here, the other actions' run.
  if (!builtin) throw new ConnectorFailed(name, 'misconfigured', `${action} has no builtin and no connector is configured for it`);
  return builtin;
}

export function readBuiltinFacts(proposal: Proposal, records: RecordReader, context: FactsContext | undefined, name = `${proposal.action} facts builtin`): Promise<unknown> {
  return builtinOf(proposal.action, name).facts(proposal.fields, records, context);
}

export async function applyBuiltinEffect(proposal: Proposal, records: RecordTable, request: { requestId: string; at: string }, name = `${proposal.action} effect builtin`): Promise<EffectReceipt> {
  return (await builtinOf(proposal.action, name).effect({ ...request, fields: proposal.fields }, records)) as EffectReceipt;
}

/** Whether the action brings its part of the example system of record. */
export function hasBuiltin(action: ActionName): boolean {
  return actionDefinition(action).builtin !== undefined;
}
