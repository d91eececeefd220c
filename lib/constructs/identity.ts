import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import {
  AccountRecovery,
  FeaturePlan,
  Mfa,
  UserPool,
  UserPoolClient,
  UserPoolGroup,
} from 'aws-cdk-lib/aws-cognito';
import { Construct } from 'constructs';
import { knownRoles } from '../../lambdas/shared/policy';
import type { WardenConfig } from '../config';

/** The roles the policies name, and the auditor; each becomes a Cognito group of that name. */
export const WARDEN_ROLES: readonly string[] = knownRoles();

export interface WardenIdentityProps {
  readonly auth: WardenConfig['auth'];
  readonly removalPolicy: RemovalPolicy;
}

/**
 * Who may call the API: an external OIDC issuer when the config names one, otherwise a Cognito
 * user pool created here (admin-created users only; roles are its groups).
 */
export class WardenIdentity extends Construct {
  /** The JWT issuer the API's authorizer trusts. */
  readonly issuer: string;
  /** The accepted `aud` / `client_id` values. */
  readonly audience: string[];
  /** The issuer's key set, when known without OIDC discovery (Cognito's); else found through discovery, as the authorizer does. */
  readonly jwksUrl?: string;
  readonly userPool?: UserPool;
  readonly userPoolClient?: UserPoolClient;

  constructor(scope: Construct, id: string, props: WardenIdentityProps) {
    super(scope, id);
    const { issuer, audience } = props.auth;
    if (issuer !== undefined && audience !== undefined) {
      this.issuer = issuer;
      this.audience = [...audience];
      return;
    }

    const userPool = new UserPool(this, 'UserPool', {
      selfSignUpEnabled: false,
      signInAliases: { email: true },
      autoVerify: { email: true },
      accountRecovery: AccountRecovery.EMAIL_ONLY,
      mfa: Mfa.OPTIONAL,
      mfaSecondFactor: { otp: true, sms: false },
      passwordPolicy: {
        minLength: 14,
        requireLowercase: true,
        requireUppercase: true,
        requireDigits: true,
        requireSymbols: true,
        tempPasswordValidity: Duration.days(3),
      },
      // Threat protection needs the Plus plan, billed per active user; Essentials keeps it cheap.
      featurePlan: FeaturePlan.ESSENTIALS,
      deletionProtection: props.removalPolicy === RemovalPolicy.RETAIN,
      removalPolicy: props.removalPolicy,
    });
    Validations.of(userPool).acknowledge(
      {
        id: 'AwsSolutions-COG2',
        reason: 'MFA (TOTP) is optional by design; organisations that require it set Mfa.REQUIRED.',
      },
      {
        id: 'AwsSolutions-COG8',
        reason: 'The Plus feature plan (threat protection) is billed per active user; Essentials is the default here.',
      },
    );
    for (const role of WARDEN_ROLES) {
      new UserPoolGroup(this, `Group-${role}`, {
        userPool,
        groupName: role,
        description: `Warden role ${role}`,
      });
    }
    const userPoolClient = userPool.addClient('ApiClient', {
      generateSecret: false,
      // SRP for apps; admin password auth lets an operator with IAM credentials mint a token.
      authFlows: { userSrp: true, adminUserPassword: true },
      // No hosted UI, so the OAuth flows (and CDK's example callback URL) stay off.
      disableOAuth: true,
      preventUserExistenceErrors: true,
      accessTokenValidity: Duration.hours(1),
      idTokenValidity: Duration.hours(1),
      refreshTokenValidity: Duration.days(1),
    });

    this.userPool = userPool;
    this.userPoolClient = userPoolClient;
    this.issuer = userPool.userPoolProviderUrl;
    this.audience = [userPoolClient.userPoolClientId];
    this.jwksUrl = `${userPool.userPoolProviderUrl}/.well-known/jwks.json`;
  }
}
