import type { SFNClient } from '@aws-sdk/client-sfn';
import { SendTaskSuccessCommand, StartExecutionCommand } from './sdk';
import { Gone, InvalidInput, OrchestratorUnavailable } from '../../errors';
import { isValidId } from '../../ids';
import type { Orchestrator } from '../../ports';
import type { WorkflowState } from '../../schemas/workflow';
import { STATE_MACHINE_ARN_ENV } from '../../tables';
import { requireEnv, sfnClient } from './clients';

/** SendTaskSuccess errors that mean the wait is over: the task timed out or was closed. */
const TASK_GONE = new Set(['TaskTimedOut', 'TaskDoesNotExist', 'InvalidToken']);

function errorName(error: unknown): string {
  return error instanceof Error ? error.name : 'UnknownError';
}

/**
 * Step Functions behind the Orchestrator port. Errors are rebuilt from the SDK error's name
 * only: SDK messages about a task may quote the task token, which must never reach a log or
 * a response.
 */
export class SfnOrchestrator implements Orchestrator {
  /**
   * @param stateMachineArn needed by `start` only: the approval Lambda, which only resumes,
   * is not given one (its role cannot start executions either).
   */
  constructor(
    private readonly sfn: SFNClient,
    private readonly stateMachineArn?: string,
  ) {}

  static fromEnv(sfn: SFNClient = sfnClient(), env: NodeJS.ProcessEnv = process.env): SfnOrchestrator {
    return new SfnOrchestrator(sfn, env[STATE_MACHINE_ARN_ENV] || undefined);
  }

  private machineArn(): string {
    return this.stateMachineArn ?? requireEnv(STATE_MACHINE_ARN_ENV, {});
  }

  async start(requestId: string, input: WorkflowState): Promise<string> {
    // The execution name is the request id: one execution per request, by construction.
    if (!isValidId(requestId)) throw new InvalidInput('invalid_request_id', 'requestId: not a valid id');
    const stateMachineArn = this.machineArn();
    try {
      const { executionArn } = await this.sfn.send(
        new StartExecutionCommand({ stateMachineArn, name: requestId, input: JSON.stringify(input) }),
      );
      if (!executionArn) throw new OrchestratorUnavailable('StartExecution returned no execution ARN.');
      return executionArn;
    } catch (error) {
      if (error instanceof OrchestratorUnavailable) throw error;
      // A retried submission: the execution is already running (or ran) under this name.
      if (errorName(error) === 'ExecutionAlreadyExists') return this.executionArnFor(requestId);
      throw new OrchestratorUnavailable(`StartExecution failed (${errorName(error)}); retry later.`);
    }
  }

  async resume(taskToken: string, output: WorkflowState): Promise<void> {
    try {
      await this.sfn.send(new SendTaskSuccessCommand({ taskToken, output: JSON.stringify(output) }));
    } catch (error) {
      const name = errorName(error);
      // The SDK retried after a lost response and found the task closed: the earlier attempt
      // delivered it. Step Functions answers a token already used with TaskTimedOut ("Provided task
      // does not exist anymore"), as it does a wait that timed out; this API stops taking decisions
      // a margin before the wait's timeout, so on a retry it is the earlier attempt that closed it.
      const attempts = (error as { $metadata?: { attempts?: number } }).$metadata?.attempts ?? 1;
      if ((name === 'TaskDoesNotExist' || name === 'TaskTimedOut') && attempts > 1) return;
      if (TASK_GONE.has(name)) throw new Gone('task_expired', 'The approval task has expired or is already closed.');
      throw new OrchestratorUnavailable(`SendTaskSuccess failed (${name}); retry later.`);
    }
  }

  /** arn:…:stateMachine:<name> → arn:…:execution:<name>:<executionName> (the ARN format is documented). */
  private executionArnFor(executionName: string): string {
    return `${this.machineArn().replace(':stateMachine:', ':execution:')}:${executionName}`;
  }
}
