/**
 * The identity side of `edge.auth.mode: cognito`: a Cognito user pool the
 * internal ALB signs browsers in against, and from which scripts get bearer
 * tokens the ALB verifies.
 *
 * - User pool: administrators create users (no self sign-up: an open sign-up
 *   page would hand out GPU time), email as the username, a strong password
 *   policy, TOTP MFA as configured, optional threat protection (Plus plan),
 *   deletion protection.
 * - Login domain `<prefix>.auth.<region>.amazoncognito.com` with managed login
 *   (version 2) and Cognito's default branding style; without a style the
 *   managed login pages of an app client do not work.
 * - A resource server with one scope, `<identifier>/invoke`. The ALB's JWT
 *   check requires it, so only tokens of the machine clients granted it open
 *   the API.
 * - Invited users from config (email only: Cognito mails a temporary
 *   password; no password ever sits in config or Terraform state).
 *
 * No app client: every client has a secret (the ALB's browser client needs
 * one, machine clients authenticate with theirs), and Terraform would store
 * it in state (the `aws_cognito_user_pool_client` data source too).
 * scripts/edge-cognito.sh creates, rotates and deletes them, with the managed
 * login style of the browser client and the ALB rules that reference it.
 */
import { CognitoResourceServer } from '@cdktf/provider-aws/lib/cognito-resource-server';
import { CognitoUser } from '@cdktf/provider-aws/lib/cognito-user';
import { CognitoUserPool } from '@cdktf/provider-aws/lib/cognito-user-pool';
import { CognitoUserPoolDomain } from '@cdktf/provider-aws/lib/cognito-user-pool-domain';
import { Fn } from 'cdktf';
import { Construct } from 'constructs';

/** Identifier of the resource server that stands for the ComfyUI API. */
export const API_RESOURCE_SERVER = 'comfyui';
/** Scope (under the resource server) an access token needs to pass the ALB's JWT check. */
export const API_SCOPE_NAME = 'invoke';
/** Full scope string as it appears in tokens: `comfyui/invoke`. */
export const API_SCOPE = `${API_RESOURCE_SERVER}/${API_SCOPE_NAME}`;
/** How the pool treats TOTP MFA. */
export type CognitoMfa = 'off' | 'optional' | 'required';
/** Threat protection (advanced security) mode; anything but `off` needs the Plus feature plan. */
export type CognitoThreatProtection = 'off' | 'audit' | 'enforced';

export interface CognitoAuthProps {
  /** Name prefix (`<name>-<environment>`). */
  readonly namePrefix: string;
  /** Host name users open (the custom domain); callbacks and links use it. */
  readonly siteDomain: string;
  /** Prefix of the Cognito login domain (`<prefix>.auth.<region>.amazoncognito.com`); unset: `<namePrefix>-` plus a hash of account, region and name prefix. */
  readonly domainPrefix?: string;
  /** Account id (Terraform reference is fine): makes the default domain prefix unique. */
  readonly accountId: string;
  /** Deployment region (part of the default domain prefix's hash). */
  readonly region: string;
  /** TOTP MFA: off, optional, required. */
  readonly mfa: CognitoMfa;
  /** Threat protection: off, audit, enforced. */
  readonly threatProtection: CognitoThreatProtection;
  /** Minimum password length (8-99). */
  readonly passwordMinLength: number;
  /** Hours a browser session lasts (1-168, the ALB's maximum); scripts/edge-cognito.sh gives the browser client's refresh tokens as long. */
  readonly sessionHours: number;
  /** Deletion protection on the user pool. */
  readonly deletionProtection: boolean;
  /** Email addresses to invite (Cognito emails each a temporary password). */
  readonly invitedUsers: readonly string[];
}

export class CognitoAuth extends Construct {
  /** The user pool. */
  public readonly userPool: CognitoUserPool;
  /** The login domain (its `domain` is the prefix the ALB action takes). */
  public readonly domain: CognitoUserPoolDomain;
  /** Resource server whose scope API tokens must carry. */
  public readonly apiResourceServer: CognitoResourceServer;
  /** Token issuer (`https://cognito-idp.<region>.amazonaws.com/<pool id>`), as the ALB checks it. */
  public readonly issuer: string;
  /** JWKS endpoint the ALB verifies token signatures with. */
  public readonly jwksEndpoint: string;

  constructor(scope: Construct, id: string, props: CognitoAuthProps) {
    super(scope, id);
    if (props.sessionHours < 1 || props.sessionHours > 168) {
      throw new Error(`edge.auth.cognito.sessionHours: must be 1-168 (the ALB allows at most 7 days), got ${props.sessionHours}`);
    }
    const siteUrl = `https://${props.siteDomain}`;

    this.userPool = new CognitoUserPool(this, 'UserPool', {
      name: `${props.namePrefix}-edge`,
      // Threat protection exists only on the Plus plan; Essentials has managed login and password history.
      userPoolTier: props.threatProtection === 'off' ? 'ESSENTIALS' : 'PLUS',
      deletionProtection: props.deletionProtection ? 'ACTIVE' : 'INACTIVE',
      usernameAttributes: ['email'],
      autoVerifiedAttributes: ['email'],
      usernameConfiguration: { caseSensitive: false },
      // Only administrators create users: a public sign-up page would let anyone spend GPU hours.
      adminCreateUserConfig: {
        allowAdminCreateUserOnly: true,
        inviteMessageTemplate: {
          emailSubject: 'Your ComfyUI account',
          emailMessage: `You can sign in to ComfyUI at ${siteUrl} as {username} with the temporary password {####} (valid 7 days); you will choose your own password then.`,
        },
      },
      passwordPolicy: {
        minimumLength: props.passwordMinLength,
        requireLowercase: true,
        requireUppercase: true,
        requireNumbers: true,
        requireSymbols: true,
        temporaryPasswordValidityDays: 7,
        passwordHistorySize: 5,
      },
      mfaConfiguration: { off: 'OFF', optional: 'OPTIONAL', required: 'ON' }[props.mfa],
      softwareTokenMfaConfiguration: props.mfa === 'off' ? undefined : { enabled: true },
      userPoolAddOns: { advancedSecurityMode: props.threatProtection.toUpperCase() },
      accountRecoverySetting: { recoveryMechanism: [{ name: 'verified_email', priority: 1 }] },
      // A changed email stays unverified (and unusable for recovery) until the user confirms it.
      userAttributeUpdateSettings: { attributesRequireVerificationBeforeUpdate: ['email'] },
    });

    // Prefixes are global per region across all accounts: the hash keeps the default unique without showing the account id.
    const defaultPrefix = `${props.namePrefix}-${Fn.substr(Fn.sha256(Fn.join('/', [props.accountId, props.region, props.namePrefix])), 0, 10)}`;
    this.domain = new CognitoUserPoolDomain(this, 'Domain', {
      userPoolId: this.userPool.id,
      domain: props.domainPrefix ?? defaultPrefix,
      managedLoginVersion: 2,
    });

    this.apiResourceServer = new CognitoResourceServer(this, 'ApiResourceServer', {
      userPoolId: this.userPool.id,
      identifier: API_RESOURCE_SERVER,
      name: `${props.namePrefix} ComfyUI API`,
      scope: [{ scopeName: API_SCOPE_NAME, scopeDescription: 'Call the ComfyUI HTTP and WebSocket API through CloudFront' }],
    });

    for (const email of props.invitedUsers) {
      new CognitoUser(this, `User-${email.toLowerCase()}`, {
        userPoolId: this.userPool.id,
        username: email.toLowerCase(),
        attributes: { email: email.toLowerCase(), email_verified: 'true' },
        desiredDeliveryMediums: ['EMAIL'],
      });
    }

    this.issuer = `https://${this.userPool.endpoint}`;
    this.jwksEndpoint = `${this.issuer}/.well-known/jwks.json`;
  }
}
