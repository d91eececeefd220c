import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { createExclusively, readIfExists } from './files';

/**
 * A stand-in for the one KMS key Warden signs audit heads with (an ECC_NIST_P256 SIGN_VERIFY
 * key): the subset of the KMS JSON API the adapter calls (Sign, GetPublicKey), on 127.0.0.1. The
 * private key lives in the data directory (created 0600) so that heads signed before a restart
 * still verify; without a data directory it lives in memory for the life of the stand-in.
 */

export const AUDIT_SIGNING_KEY_FILE = 'audit-signing-key.pem';
const LOCAL_ACCOUNT = '000000000000';
const SIGNING_ALGORITHM = 'ECDSA_SHA_256';
/** KMS's own limit for a RAW message. */
const MAX_RAW_MESSAGE_BYTES = 4096;

export interface LocalKms {
  endpoint: string;
  /** The key's ARN, as AWS names a key: what AUDIT_SIGNING_KEY_ID holds and Sign returns. */
  keyArn: string;
  close(): Promise<void>;
}

class KmsError extends Error {
  constructor(
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

async function loadOrCreateKey(dataDir: string | undefined): Promise<KeyObject> {
  const fresh = () => generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
  if (!dataDir) return fresh();
  const path = join(dataDir, AUDIT_SIGNING_KEY_FILE);
  const existing = await readIfExists(path);
  if (existing !== undefined) return createPrivateKey(existing);
  const created = fresh().export({ type: 'pkcs8', format: 'pem' }) as string;
  // Of two starts racing on one directory the first file wins; both then read that one.
  await createExclusively(path, created, 0o600);
  return createPrivateKey((await readIfExists(path)) ?? created);
}

export async function startLocalKms(options: { dataDir?: string; region: string }): Promise<LocalKms> {
  const privateKey = await loadOrCreateKey(options.dataDir);
  const publicKeyDer = createPublicKey(privateKey).export({ type: 'spki', format: 'der' });
  // The key id follows from the key: a data directory with another key file names another key.
  const fingerprint = createHash('sha256').update(publicKeyDer).digest('hex');
  const keyUuid = `${fingerprint.slice(0, 8)}-${fingerprint.slice(8, 12)}-${fingerprint.slice(12, 16)}-${fingerprint.slice(16, 20)}-${fingerprint.slice(20, 32)}`;
  const keyArn = `arn:aws:kms:${options.region}:${LOCAL_ACCOUNT}:key/${keyUuid}`;

  const requireKey = (keyId: unknown): void => {
    if (keyId !== keyArn && keyId !== keyUuid) throw new KmsError('NotFoundException', 'Key does not exist in this stand-in.');
  };
  const operations: Record<string, (input: Record<string, unknown>) => Record<string, unknown>> = {
    GetPublicKey(input) {
      requireKey(input.KeyId);
      return {
        KeyId: keyArn,
        PublicKey: publicKeyDer.toString('base64'),
        KeySpec: 'ECC_NIST_P256',
        KeyUsage: 'SIGN_VERIFY',
        SigningAlgorithms: [SIGNING_ALGORITHM],
      };
    },
    Sign(input) {
      requireKey(input.KeyId);
      if (input.SigningAlgorithm !== SIGNING_ALGORITHM) throw new KmsError('InvalidKeyUsageException', 'Unsupported signing algorithm for this key.');
      if ((input.MessageType ?? 'RAW') !== 'RAW') throw new KmsError('ValidationException', 'Only RAW messages are supported here.');
      const message = Buffer.from(String(input.Message ?? ''), 'base64');
      if (message.length === 0 || message.length > MAX_RAW_MESSAGE_BYTES) {
        throw new KmsError('ValidationException', `Message must be 1..${MAX_RAW_MESSAGE_BYTES} bytes.`);
      }
      // ECDSA over SHA-256, DER-encoded: what KMS returns for ECDSA_SHA_256.
      const signature = sign('sha256', message, privateKey);
      return { KeyId: keyArn, Signature: signature.toString('base64'), SigningAlgorithm: SIGNING_ALGORITHM };
    },
  };

  const server: Server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const reply = (status: number, body: Record<string, unknown>) => {
        response.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' });
        response.end(JSON.stringify(body));
      };
      try {
        const target = String(request.headers['x-amz-target'] ?? '');
        const operation = operations[target.replace(/^TrentService\./, '')];
        if (!target.startsWith('TrentService.') || !operation) throw new KmsError('UnsupportedOperationException', 'Not served by this stand-in.');
        reply(200, operation(JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, unknown>));
      } catch (error) {
        const known = error instanceof KmsError;
        reply(known ? 400 : 500, {
          __type: known ? error.type : 'KMSInternalException',
          message: known ? error.message : 'The stand-in failed.',
        });
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    keyArn,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
    },
  };
}
