import { GetObjectCommand, HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { S3StateStore, vaultKey } from '../../../lambdas/shared/adapters/aws/stateStore';
import { createS3Client } from '../../../lambdas/shared/adapters/aws/clients';
import { InvalidInput, InvalidWorkflowState, NotFound } from '../../../lambdas/shared/errors';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../../local/emulators';
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

describe('S3StateStore as the PII vault', () => {
  const originals = { '[EMAIL_1]': 'jane@example.com', '[PHONE_1]': '+44 20 7946 0958' };

  it('round-trips the originals under checkpoints/{requestId}/vault.json', async () => {
    const { requestId } = aWorkflowState();
    await stores().state.putVault(requestId, originals);
    expect(vaultKey(requestId)).toBe(`checkpoints/${requestId}/vault.json`);
    const object = await stores().s3.send(new GetObjectCommand({ Bucket: stores().emulators.bucket, Key: vaultKey(requestId) }));
    expect(JSON.parse(await object.Body!.transformToString())).toEqual({ requestId, originals });
    expect(await stores().state.getVault(requestId)).toEqual(originals);
  });

  it('asks S3 for SSE-KMS with the stack key on every vault write', async () => {
    const sent: Record<string, string>[] = [];
    const s3 = createS3Client({ region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS, endpoint: stores().emulators.endpoints.s3 }, {});
    s3.middlewareStack.add(
      (next) => async (args) => {
        sent.push({ ...(args.request as { headers: Record<string, string> }).headers });
        return next(args);
      },
      { step: 'finalizeRequest' },
    );
    const store = new S3StateStore(s3, stores().emulators.bucket, { kmsKeyId: 'alias/warden-test' });
    try {
      await store.putVault(aWorkflowState().requestId, originals);
    } finally {
      s3.destroy();
    }
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({ 'x-amz-server-side-encryption': 'aws:kms', 'x-amz-server-side-encryption-aws-kms-key-id': 'alias/warden-test' });
  });

  it('answers NotFound for a request that kept nothing, and refuses a corrupt or foreign vault', async () => {
    const { bucket } = stores().emulators;
    await expect(stores().state.getVault('r_novault')).rejects.toBeInstanceOf(NotFound);
    await stores().s3.send(new PutObjectCommand({ Bucket: bucket, Key: vaultKey('r_foreign'), Body: JSON.stringify({ requestId: 'r_other', originals }) }));
    await expect(stores().state.getVault('r_foreign')).rejects.toBeInstanceOf(InvalidWorkflowState);
    await stores().s3.send(new PutObjectCommand({ Bucket: bucket, Key: vaultKey('r_badkey'), Body: JSON.stringify({ requestId: 'r_badkey', originals: { 'not a placeholder': 'x' } }) }));
    await expect(stores().state.getVault('r_badkey')).rejects.toBeInstanceOf(InvalidWorkflowState);
  });

  it('refuses hostile request ids before anything reaches S3, and never reads the vault as a checkpoint', async () => {
    for (const hostile of ['../x', 'a/b', 'x'.repeat(300), '']) {
      await expect(stores().state.putVault(hostile, originals)).rejects.toBeInstanceOf(InvalidInput);
      await expect(stores().state.getVault(hostile)).rejects.toBeInstanceOf(InvalidInput);
    }
    const { requestId } = aWorkflowState();
    await stores().state.putVault(requestId, originals);
    await expect(stores().state.getCheckpoint(vaultKey(requestId))).rejects.toBeInstanceOf(InvalidInput);
  });

  it('refuses to store something that is not a placeholder map, naming no value in the error', async () => {
    const write = stores().state.putVault('r_refused', { '[EMAIL_1]': '' });
    await expect(write).rejects.toBeInstanceOf(InvalidWorkflowState);
    await expect(write).rejects.toThrow('vault: originals.[EMAIL_1]');
  });
});
