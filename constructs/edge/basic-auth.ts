/**
 * Authentication at the edge, on by default: a CloudFront KeyValueStore of
 * hashed credentials (`user:<username>` -> hex SHA-256 of
 * "<username>:<password>"), seeded from config, plus the HMAC key of browser
 * session cookies (`session:secret`), and the viewer-request CloudFront
 * Function that checks every request against it.
 *
 * Each configured user is its own Terraform resource, so users added to the
 * store with scripts/edge-user.sh (no redeploy) are left alone by `apply`.
 * The session key is random (Secrets Manager GetRandomPassword at plan time),
 * written once and then ignored by Terraform, so `edge-user.sh
 * rotate-sessions` can replace it; it lives in Terraform state like any
 * other secret the stack creates.
 */
import { CloudfrontFunction } from '@cdktf/provider-aws/lib/cloudfront-function';
import { CloudfrontKeyValueStore } from '@cdktf/provider-aws/lib/cloudfront-key-value-store';
import { CloudfrontkeyvaluestoreKey } from '@cdktf/provider-aws/lib/cloudfrontkeyvaluestore-key';
import { DataAwsSecretsmanagerRandomPassword } from '@cdktf/provider-aws/lib/data-aws-secretsmanager-random-password';
import { Construct } from 'constructs';
import { CLOUDFRONT_FUNCTION_MAX_BYTES, renderAuthFunction } from './auth-function-code';

/** Key prefix of user entries in the KeyValueStore. */
export const KVS_USER_KEY_PREFIX = 'user:';
/** Key of the session-cookie HMAC secret in the KeyValueStore. */
export const KVS_SESSION_SECRET_KEY = 'session:secret';

/** One Basic-auth user, as configured. */
export interface BasicAuthUser {
  /** Login name (letters, digits, . _ @ -). */
  readonly username: string;
  /** Hex SHA-256 of "<username>:<password>". */
  readonly passwordSha256: string;
}

export interface BasicAuthProps {
  /** Name prefix of the store and the function (`<name>-<environment>`). */
  readonly namePrefix: string;
  /** Realm shown in the browser's login prompt. */
  readonly realm: string;
  /** Users seeded into the store. */
  readonly users: readonly BasicAuthUser[];
  /** Lifetime of browser session cookies, in hours. */
  readonly sessionHours: number;
}

export class BasicAuth extends Construct {
  /** The KeyValueStore holding the hashed credentials. */
  public readonly store: CloudfrontKeyValueStore;
  /** The published viewer-request function. */
  public readonly function: CloudfrontFunction;

  constructor(scope: Construct, id: string, props: BasicAuthProps) {
    super(scope, id);

    this.store = new CloudfrontKeyValueStore(this, 'Store', {
      name: `${props.namePrefix}-edge-auth`,
      comment: 'ComfyUI Basic-auth users: user:<name> -> sha256(<name>:<password>)',
    });

    for (const user of props.users) {
      new CloudfrontkeyvaluestoreKey(this, `User-${user.username}`, {
        keyValueStoreArn: this.store.arn,
        key: `${KVS_USER_KEY_PREFIX}${user.username}`,
        value: user.passwordSha256,
      });
    }

    const sessionSecret = new DataAwsSecretsmanagerRandomPassword(this, 'SessionSecret', {
      passwordLength: 64,
      excludePunctuation: true,
    });
    new CloudfrontkeyvaluestoreKey(this, 'SessionSecretKey', {
      keyValueStoreArn: this.store.arn,
      key: KVS_SESSION_SECRET_KEY,
      value: sessionSecret.randomPassword,
      // A new random value comes with every plan; keep the first (rotate with edge-user.sh).
      lifecycle: { ignoreChanges: ['value'] },
    });

    const settings = { realm: props.realm, sessionSeconds: props.sessionHours * 3600 };
    const code = renderAuthFunction({ ...settings, kvsId: this.store.id });
    // The deployed id is a UUID (36 bytes) in place of the token; check the size with that.
    const deployedBytes = Buffer.byteLength(renderAuthFunction({ ...settings, kvsId: '00000000-0000-0000-0000-000000000000' }));
    if (deployedBytes > CLOUDFRONT_FUNCTION_MAX_BYTES) {
      throw new Error(`the edge auth function is ${deployedBytes} bytes; CloudFront Functions allow ${CLOUDFRONT_FUNCTION_MAX_BYTES}`);
    }

    this.function = new CloudfrontFunction(this, 'ViewerRequest', {
      name: `${props.namePrefix}-edge-auth`,
      comment: 'Basic auth against the KeyValueStore of hashed credentials',
      runtime: 'cloudfront-js-2.0',
      code,
      keyValueStoreAssociations: [this.store.arn],
      publish: true,
    });
  }
}
