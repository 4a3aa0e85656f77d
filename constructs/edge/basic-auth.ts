/**
 * Authentication at the edge, on by default: a CloudFront KeyValueStore and
 * the viewer-request CloudFront Function that checks every request against
 * it. The store holds users (`user:<username>` -> hex SHA-256 of
 * "<username>:<password>"), the HMAC key of browser session cookies
 * (`session:secret`) and the origin header value the ALB requires
 * (`origin:secret`).
 *
 * Terraform creates the store and the function and writes NO key: every
 * entry is written by scripts/edge-user.sh (`init`, `put`, `rotate-*`), so
 * no secret and no password hash is ever in Terraform state, and the role
 * that plans pull requests needs no KeyValueStore data-plane read. Until
 * `edge-user.sh init` has run, the function fails closed (docs/security.md).
 */
import { CloudfrontFunction } from '@cdktf/provider-aws/lib/cloudfront-function';
import { CloudfrontKeyValueStore } from '@cdktf/provider-aws/lib/cloudfront-key-value-store';
import { Construct } from 'constructs';
import { CLOUDFRONT_FUNCTION_MAX_BYTES, renderAuthFunction } from './auth-function-code';

/** Key prefix of user entries in the KeyValueStore. */
export const KVS_USER_KEY_PREFIX = 'user:';
/** Key of the session-cookie HMAC secret in the KeyValueStore. */
export const KVS_SESSION_SECRET_KEY = 'session:secret';
/** Key of the origin header value in the KeyValueStore. */
export const KVS_ORIGIN_SECRET_KEY = 'origin:secret';
/** Header the function adds to every forwarded request and the ALB requires (lower case, as CloudFront Functions see headers). */
export const ORIGIN_VERIFY_HEADER = 'x-comfyui-origin-verify';

export interface BasicAuthProps {
  /** Name prefix of the store and the function (`<name>-<environment>`). */
  readonly namePrefix: string;
  /** Realm shown in the browser's login prompt. */
  readonly realm: string;
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
      comment: 'ComfyUI edge auth: users and secrets, written only by scripts/edge-user.sh',
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
