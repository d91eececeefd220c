import type { S3Client } from '@aws-sdk/client-s3';
import { GetObjectCommand, PutObjectCommand } from './sdk';
import * as z from '../../schemas/zod';
import { InvalidInput, InvalidWorkflowState, NotFound } from '../../errors';
import { isValidId } from '../../ids';
import type { PiiOriginals, PiiVault, StateStore } from '../../ports';
import { describeIssues } from '../../schemas/actions';
import { WorkflowState } from '../../schemas/workflow';
import { checkpointKey, STATE_BUCKET_ENV, STATE_KEY_ENV } from '../../tables';
import { requireEnv, s3Client } from './clients';

/** The only keys this store reads: what checkpointKey() builds from two valid ids. */
const CHECKPOINT_KEY = /^checkpoints\/[A-Za-z0-9_-]{1,64}\/[A-Za-z0-9_-]{1,64}\.json$/;

const VAULT_FILE = 'vault.json';

/**
 * S3 key of a request's PII vault: next to its checkpoints, so it shares their encryption,
 * access grants and lifecycle. Task ids start with `t_`, so no checkpoint is ever called this.
 */
export function vaultKey(requestId: string): string {
  return `checkpoints/${requestId}/${VAULT_FILE}`;
}

const PLACEHOLDER_KEY = /^\[[A-Z_]{1,32}_\d{1,6}\]$/;

/** The vault object as stored: originals are NFKC text, at most as long as the request text. */
const VaultDocument = z.strictObject({
  requestId: z.string(),
  originals: z.record(z.string().check(z.regex(PLACEHOLDER_KEY)), z.string().check(z.minLength(1), z.maxLength(4000))),
});

export interface S3StateStoreOptions {
  /** The CMK for SSE-KMS; without it S3 uses the bucket's default key. */
  kmsKeyId?: string;
}

export class S3StateStore implements StateStore, PiiVault {
  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
    private readonly options: S3StateStoreOptions = {},
  ) {}

  static fromEnv(s3: S3Client = s3Client(), env: NodeJS.ProcessEnv = process.env): S3StateStore {
    const kmsKeyId = env[STATE_KEY_ENV];
    return new S3StateStore(s3, requireEnv(STATE_BUCKET_ENV, env), kmsKeyId ? { kmsKeyId } : {});
  }

  async putCheckpoint(requestId: string, taskId: string, state: WorkflowState): Promise<string> {
    // Ids become path segments: validated before any key exists (no '../', no '/').
    if (!isValidId(requestId)) throw new InvalidInput('invalid_request_id', 'requestId: not a valid id');
    if (!isValidId(taskId)) throw new InvalidInput('invalid_task_id', 'taskId: not a valid id');
    const parsed = WorkflowState.safeParse(state);
    if (!parsed.success) throw new InvalidWorkflowState(`checkpoint state: ${describeIssues(parsed.error)}`);
    if (parsed.data.requestId !== requestId) throw new InvalidWorkflowState('checkpoint state belongs to another request');
    const key = checkpointKey(requestId, taskId);
    await this.s3.send(
      new PutObjectCommand({
        Bucket: this.bucket,
        Key: key,
        Body: JSON.stringify(parsed.data),
        ContentType: 'application/json',
        ServerSideEncryption: 'aws:kms',
        ...(this.options.kmsKeyId ? { SSEKMSKeyId: this.options.kmsKeyId } : {}),
      }),
    );
    return key;
  }

  async getCheckpoint(key: string): Promise<WorkflowState> {
    if (!CHECKPOINT_KEY.test(key) || key.endsWith(`/${VAULT_FILE}`)) {
      throw new InvalidInput('invalid_checkpoint_key', 'checkpoint key: not a checkpoint key');
    }
    const text = await this.getText(key, 'Checkpoint');
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new InvalidWorkflowState(`checkpoint ${key} is corrupt: not JSON`);
    }
    const parsed = WorkflowState.safeParse(json);
    if (!parsed.success) throw new InvalidWorkflowState(`checkpoint ${key} is corrupt: ${describeIssues(parsed.error)}`);
    return parsed.data;
  }

  /** Writes (or, on a retried submission, overwrites) the request's vault. */
  async putVault(requestId: string, originals: PiiOriginals): Promise<void> {
    if (!isValidId(requestId)) throw new InvalidInput('invalid_request_id', 'requestId: not a valid id');
    const parsed = VaultDocument.safeParse({ requestId, originals });
    // The issue paths name placeholders, never the values.
    if (!parsed.success) throw new InvalidWorkflowState(`vault: ${parsed.error.issues.map((i) => i.path.join('.')).join(', ')}`);
    await this.s3.send(
      new PutObjectCommand({
        Bucket: this.bucket,
        Key: vaultKey(requestId),
        Body: JSON.stringify(parsed.data),
        ContentType: 'application/json',
        ServerSideEncryption: 'aws:kms',
        ...(this.options.kmsKeyId ? { SSEKMSKeyId: this.options.kmsKeyId } : {}),
      }),
    );
  }

  async getVault(requestId: string): Promise<PiiOriginals> {
    if (!isValidId(requestId)) throw new InvalidInput('invalid_request_id', 'requestId: not a valid id');
    const key = vaultKey(requestId);
    const text = await this.getText(key, 'Vault');
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new InvalidWorkflowState(`vault ${key} is corrupt: not JSON`);
    }
    const parsed = VaultDocument.safeParse(json);
    if (!parsed.success || parsed.data.requestId !== requestId) throw new InvalidWorkflowState(`vault ${key} is corrupt`);
    return parsed.data.originals;
  }

  private async getText(key: string, what: string): Promise<string> {
    try {
      const { Body } = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      if (!Body) throw new InvalidWorkflowState(`${what.toLowerCase()} ${key} is empty`);
      return await Body.transformToString('utf8');
    } catch (error) {
      if (error instanceof Error && (error.name === 'NoSuchKey' || error.name === 'NotFound')) {
        throw new NotFound(`${what} ${key} not found.`);
      }
      throw error;
    }
  }
}
