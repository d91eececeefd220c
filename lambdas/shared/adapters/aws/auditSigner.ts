import type { KMSClient } from '@aws-sdk/client-kms';
import { GetPublicKeyCommand, SignCommand } from './sdk';
import { createPublicKey, verify, type KeyObject } from 'node:crypto';
import type { AuditSigner } from '../../ports';
import { AUDIT_SIGNING_KEY_ENV } from '../../tables';
import { kmsClient, requireEnv } from './clients';

/** The key's spec (`ECC_NIST_P256`, SIGN_VERIFY) fixes the one algorithm it signs with. */
const SIGNING_ALGORITHM = 'ECDSA_SHA_256';

interface PublicKey {
  keyId: string;
  key: KeyObject;
}

/**
 * Audit heads signed with an asymmetric KMS key: `kms:Sign` is granted only to the Lambdas that
 * append, so the private half never leaves KMS. Verifying needs only the public half, fetched
 * once per container (`kms:GetPublicKey`) and checked here, without a KMS call per read.
 */
export class KmsAuditSigner implements AuditSigner {
  private publicKey?: Promise<PublicKey>;

  constructor(
    readonly kms: KMSClient,
    /** The key's ARN (what the CDK stack sets); KMS names the key by its ARN in every answer. */
    private readonly keyId: string,
  ) {}

  static fromEnv(kms: KMSClient = kmsClient(), env: NodeJS.ProcessEnv = process.env): KmsAuditSigner {
    return new KmsAuditSigner(kms, requireEnv(AUDIT_SIGNING_KEY_ENV, env));
  }

  async sign(message: Uint8Array): Promise<{ signature: Uint8Array; keyId: string }> {
    const { Signature, KeyId } = await this.kms.send(
      new SignCommand({ KeyId: this.keyId, Message: message, MessageType: 'RAW', SigningAlgorithm: SIGNING_ALGORITHM }),
    );
    if (!Signature || !KeyId) throw new Error('KMS Sign returned no signature');
    return { signature: Signature, keyId: KeyId };
  }

  readonly verify = async (message: Uint8Array, signature: Uint8Array, keyId: string): Promise<boolean> => {
    const publicKey = await this.loadPublicKey();
    if (keyId !== publicKey.keyId) return false;
    return verify('sha256', message, publicKey.key, signature);
  };

  private loadPublicKey(): Promise<PublicKey> {
    this.publicKey ??= this.kms.send(new GetPublicKeyCommand({ KeyId: this.keyId })).then(({ PublicKey, KeyId }) => {
      if (!PublicKey || !KeyId) throw new Error('KMS GetPublicKey returned no key');
      return { keyId: KeyId, key: createPublicKey({ key: Buffer.from(PublicKey), format: 'der', type: 'spki' }) };
    });
    // A failed fetch (throttled, say) is tried again by the next call, not cached.
    this.publicKey.catch(() => (this.publicKey = undefined));
    return this.publicKey;
  }
}
