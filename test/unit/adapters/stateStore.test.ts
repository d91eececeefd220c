import { GetObjectCommand, HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { S3StateStore } from '../../../lambdas/shared/adapters/aws/stateStore';
import { InvalidInput, InvalidWorkflowState, NotFound } from '../../../lambdas/shared/errors';
import { LOCAL_CREDENTIALS } from '../../../local/emulators';
import { aWorkflowState } from '../../support/fixtures';
import { useEmulatedStores } from '../../support/stores';

const stores = useEmulatedStores();

describe('S3StateStore', () => {
  it('round-trips a checkpoint under checkpoints/{requestId}/{taskId}.json', async () => {
    const state = aWorkflowState();
    const key = await stores().state.putCheckpoint(state.requestId, 't_1', state);
    expect(key).toBe(`checkpoints/${state.requestId}/t_1.json`);
    expect(await stores().state.getCheckpoint(key)).toEqual(state);

    const head = await stores().s3.send(new HeadObjectCommand({ Bucket: stores().emulators.bucket, Key: key }));
    expect(head.ContentType).toBe('application/json');
  });

  it('overwrites the checkpoint when a retried step writes it again', async () => {
    const state = aWorkflowState();
    await stores().state.putCheckpoint(state.requestId, 't_1', state);
    const key = await stores().state.putCheckpoint(state.requestId, 't_1', { ...state, text: 'second write' });
    expect((await stores().state.getCheckpoint(key)).text).toBe('second write');
  });

  describe('rejects hostile ids before anything reaches S3', () => {
    // An endpoint where nothing listens: reaching it would fail with a network error instead.
    const nowhere = new S3Client({
      endpoint: 'http://127.0.0.1:9',
      region: 'us-east-1',
      credentials: LOCAL_CREDENTIALS,
      maxAttempts: 1,
      forcePathStyle: true,
    });
    const unreachable = new S3StateStore(nowhere, 'warden-state');
    afterAll(() => nowhere.destroy());

    const named = (values: string[]) => values.map((v) => [v.length > 64 ? `${v.length} chars` : JSON.stringify(v), v]);

    it.each(named(['../x', 'a/b', 'x'.repeat(300), '', 'a b', 'é', '..']))('requestId %s', async (_name, hostile) => {
      await expect(unreachable.putCheckpoint(hostile, 't_1', aWorkflowState({ requestId: 'r_1' }))).rejects.toBeInstanceOf(InvalidInput);
    });

    it.each(named(['../x', 'a/b', 'x'.repeat(300)]))('taskId %s', async (_name, hostile) => {
      const state = aWorkflowState();
      await expect(unreachable.putCheckpoint(state.requestId, hostile, state)).rejects.toBeInstanceOf(InvalidInput);
    });

    it.each(named(['checkpoints/../secrets.json', 'checkpoints/a/b/c.json', 'other/a/b.json', `checkpoints/${'x'.repeat(300)}/t.json`]))(
      'checkpoint key %s',
      async (_name, hostile) => {
        await expect(unreachable.getCheckpoint(hostile)).rejects.toBeInstanceOf(InvalidInput);
      },
    );
  });

  it('refuses to write a state that fails the schema or belongs to another request', async () => {
    const state = aWorkflowState();
    await expect(
      stores().state.putCheckpoint(state.requestId, 't_1', { ...state, approvalTimeoutSeconds: -1 }),
    ).rejects.toBeInstanceOf(InvalidWorkflowState);
    await expect(stores().state.putCheckpoint('r_other', 't_1', state)).rejects.toBeInstanceOf(InvalidWorkflowState);
  });

  it('says clearly when a checkpoint is corrupt or missing', async () => {
    const { bucket } = stores().emulators;
    const put = (Key: string, Body: string) => stores().s3.send(new PutObjectCommand({ Bucket: bucket, Key, Body }));
    await put('checkpoints/r_corrupt/t_1.json', '{"requestId": "r_corrupt", trunc');
    await put('checkpoints/r_wrong/t_1.json', JSON.stringify({ requestId: 'r_wrong', text: 42 }));

    await expect(stores().state.getCheckpoint('checkpoints/r_corrupt/t_1.json')).rejects.toThrow(
      new InvalidWorkflowState('checkpoint checkpoints/r_corrupt/t_1.json is corrupt: not JSON'),
    );
    const wrongShape = stores().state.getCheckpoint('checkpoints/r_wrong/t_1.json');
    await expect(wrongShape).rejects.toBeInstanceOf(InvalidWorkflowState);
    await expect(wrongShape).rejects.toThrow(/checkpoints\/r_wrong\/t_1\.json is corrupt: .*text/);
    await expect(stores().state.getCheckpoint('checkpoints/r_none/t_1.json')).rejects.toBeInstanceOf(NotFound);
  });

  it('stores the bytes it was given (no checksum framing in the object)', async () => {
    const state = aWorkflowState({ text: 'x'.repeat(3000) });
    const key = await stores().state.putCheckpoint(state.requestId, 't_big', state);
    const object = await stores().s3.send(new GetObjectCommand({ Bucket: stores().emulators.bucket, Key: key }));
    expect(await object.Body!.transformToString()).toBe(JSON.stringify(state));
  });
});
