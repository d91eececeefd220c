import type { Context } from 'aws-lambda';
import { logger, logStepInput, recordMetric, traceModelCalls, withObservability } from '../shared/observability';
import { auditLog, modelProviderFor, requestStore } from '../shared/runtime';
import { inferenceStep } from '../shared/workflow/inference-step';
import { parseState } from '../shared/workflow/state';
import type { WorkflowState } from '../shared/schemas/workflow';

/** Step Functions task: turn text into a candidate proposal. The output is untrusted. */
export async function handler(event: unknown, context?: Partial<Context>): Promise<WorkflowState> {
  const state = parseState(event);
  return withObservability({ requestId: state.requestId, traceId: state.traceId }, context, async () => {
    logStepInput(state);
    const provider = traceModelCalls(await modelProviderFor(state.triage?.route ?? 'human'));
    const next = await inferenceStep(state, { requests: requestStore(), audit: auditLog(), provider });
    const model = next.inference?.model;
    logger.info('proposal generated', {
      provider: model?.provider,
      model: model?.id,
      confidence: next.inference?.confidence,
      inputTokens: model?.inputTokens,
      outputTokens: model?.outputTokens,
    });
    // The rules extractor is no model call: it has no tokens or cost to count.
    if (model && model.provider !== 'rules') {
      const tier = next.triage?.modelTier ?? 'low';
      recordMetric('ModelInputTokens', model.inputTokens, { tier });
      recordMetric('ModelOutputTokens', model.outputTokens, { tier });
      recordMetric('ModelCostUsd', model.costUsd, { tier });
    }
    return next;
  });
}
