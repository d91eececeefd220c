import {
  ExecutionAlreadyExists,
  InvalidToken,
  SendTaskSuccessCommand,
  SFNClient,
  SFNServiceException,
  StartExecutionCommand,
  TaskDoesNotExist,
  TaskTimedOut,
} from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { SfnOrchestrator } from '../../../lambdas/shared/adapters/aws/orchestrator';
import { Gone, InvalidInput, OrchestratorUnavailable } from '../../../lambdas/shared/errors';
import { aWorkflowState } from '../../support/fixtures';

// A mock only for error mapping (what the adapter throws or returns for each SDK error); the
// happy path runs against the local Step Functions service.
const STATE_MACHINE_ARN = 'arn:aws:states:us-east-1:123456789012:stateMachine:warden-governed-request';
const TASK_TOKEN = 'AQCEAAAAKgAAAAMAAAAAAAAAAdo-secret-task-token';
const meta = { $metadata: {} };

const sfnMock = mockClient(SFNClient);
const orchestrator = new SfnOrchestrator(new SFNClient({ region: 'us-east-1' }), STATE_MACHINE_ARN);

beforeEach(() => sfnMock.reset());

async function rejectionOf(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a rejection');
}
afterAll(() => sfnMock.restore());

describe('SfnOrchestrator.start', () => {
  it('returns the existing execution ARN when the execution already exists', async () => {
    const state = aWorkflowState();
    sfnMock.on(StartExecutionCommand).rejects(new ExecutionAlreadyExists({ message: 'Execution Already Exists', ...meta }));
    expect(await orchestrator.start(state.requestId, state)).toBe(
      `arn:aws:states:us-east-1:123456789012:execution:warden-governed-request:${state.requestId}`,
    );
  });

  it('maps any other failure to OrchestratorUnavailable (503)', async () => {
    const state = aWorkflowState();
    sfnMock.on(StartExecutionCommand).rejects(
      new SFNServiceException({ name: 'ServiceUnavailable', $fault: 'server', message: 'try later', ...meta }),
    );
    const start = orchestrator.start(state.requestId, state);
    await expect(start).rejects.toBeInstanceOf(OrchestratorUnavailable);
    await expect(start).rejects.toMatchObject({ status: 503, code: 'orchestrator_unavailable' });
  });

  it('refuses an invalid execution name', async () => {
    await expect(orchestrator.start('a/b', aWorkflowState())).rejects.toBeInstanceOf(InvalidInput);
  });
});

describe('SfnOrchestrator.resume', () => {
  it.each([
    ['TaskTimedOut', () => new TaskTimedOut({ message: `Task Timed Out: '${TASK_TOKEN}'`, ...meta })],
    ['TaskDoesNotExist', () => new TaskDoesNotExist({ message: `Task does not exist: '${TASK_TOKEN}'`, ...meta })],
    ['InvalidToken', () => new InvalidToken({ message: `Invalid token: '${TASK_TOKEN}'`, ...meta })],
  ])('maps %s to Gone (410 task_expired) without quoting the token', async (_name, error) => {
    sfnMock.on(SendTaskSuccessCommand).rejects(error());
    const resume = orchestrator.resume(TASK_TOKEN, aWorkflowState());
    await expect(resume).rejects.toBeInstanceOf(Gone);
    await expect(resume).rejects.toMatchObject({ status: 410, code: 'task_expired' });
    const thrown = await rejectionOf(resume);
    expect(`${thrown.message} ${thrown.stack} ${JSON.stringify(thrown)}`).not.toContain(TASK_TOKEN);
  });

  it.each([
    ['TaskDoesNotExist', () => new TaskDoesNotExist({ message: 'Task does not exist', $metadata: { attempts: 2 } })],
    // What Step Functions answers a token already used: "Task Timed Out: 'Provided task does not exist anymore'".
    ['TaskTimedOut', () => new TaskTimedOut({ message: "Task Timed Out: 'Provided task does not exist anymore'", $metadata: { attempts: 2 } })],
  ])('counts a retried SendTaskSuccess that finds the task closed (%s) as delivered (the first attempt landed)', async (_name, error) => {
    sfnMock.on(SendTaskSuccessCommand).rejects(error());
    await expect(orchestrator.resume(TASK_TOKEN, aWorkflowState())).resolves.toBeUndefined();
  });

  it('needs no state machine ARN to resume (the approval Lambda is not given one)', async () => {
    sfnMock.on(SendTaskSuccessCommand).resolves({});
    const resumer = SfnOrchestrator.fromEnv(new SFNClient({ region: 'us-east-1' }), {});
    await expect(resumer.resume(TASK_TOKEN, aWorkflowState())).resolves.toBeUndefined();
    await expect(resumer.start('r_1', aWorkflowState())).rejects.toThrow('STATE_MACHINE_ARN');
  });

  it('maps other failures to OrchestratorUnavailable, also without the token', async () => {
    sfnMock.on(SendTaskSuccessCommand).rejects(
      new SFNServiceException({ name: 'ThrottlingException', $fault: 'client', message: `slow down ${TASK_TOKEN}`, ...meta }),
    );
    const thrown = await rejectionOf(orchestrator.resume(TASK_TOKEN, aWorkflowState()));
    expect(thrown).toBeInstanceOf(OrchestratorUnavailable);
    expect(`${thrown.message} ${thrown.stack} ${JSON.stringify(thrown)}`).not.toContain(TASK_TOKEN);
  });
});
