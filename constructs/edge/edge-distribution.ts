/**
 * The CloudFront distribution users open: one VPC origin (the internal ALB),
 * HTTPS-only viewers, HTTP/2 and HTTP/3, and three behaviours:
 *
 * - default (`*`): the API, the WebSocket `/ws` and index.html. Caching off
 *   (managed CachingDisabled) and every viewer header, cookie and query string
 *   forwarded except Host (managed AllViewerExceptHostHeader), so WebSocket
 *   upgrades, uploads and the ALB stickiness cookie pass through.
 * - `/assets/*`: the frontend's content-hashed bundles, cached for at least a
 *   day even though ComfyUI sends `Cache-Control: no-cache` for .js/.css.
 * - `/extensions/*`: custom-node web files (not hashed), cached as the origin
 *   says, 5 minutes when it says nothing.
 *
 * The auth function runs on viewer-request of every behaviour, so cached
 * responses need credentials too.
 *
 * When the origin authenticates instead (`originAuthenticates`: Cognito at
 * the ALB) there is one behaviour only: nothing is cached, because a response
 * served from the edge cache would never pass the ALB's check, and every
 * viewer header including Host is forwarded (managed AllViewer), because the
 * ALB builds its login redirect from Host and needs its session cookie.
 * Access logs use standard logging v2
 * (CloudWatch Logs delivery to S3, created in us-east-1), which works with
 * ACL-less buckets, unlike legacy logging.
 */
import { CloudfrontCachePolicy } from '@cdktf/provider-aws/lib/cloudfront-cache-policy';
import {
  CloudfrontDistribution,
  CloudfrontDistributionDefaultCacheBehaviorFunctionAssociation,
  CloudfrontDistributionViewerCertificate,
} from '@cdktf/provider-aws/lib/cloudfront-distribution';
import { CloudfrontOriginRequestPolicy } from '@cdktf/provider-aws/lib/cloudfront-origin-request-policy';
import { CloudfrontResponseHeadersPolicy } from '@cdktf/provider-aws/lib/cloudfront-response-headers-policy';
import { CloudwatchLogDelivery } from '@cdktf/provider-aws/lib/cloudwatch-log-delivery';
import { CloudwatchLogDeliveryDestination } from '@cdktf/provider-aws/lib/cloudwatch-log-delivery-destination';
import { CloudwatchLogDeliverySource } from '@cdktf/provider-aws/lib/cloudwatch-log-delivery-source';
import { ITerraformDependable } from 'cdktf';
import { Construct } from 'constructs';
import type { WakeDistributionParts } from './wake-endpoint';

/** AWS managed cache policy `Managed-CachingDisabled`. */
export const MANAGED_CACHING_DISABLED = '4135ea2d-6df8-44a3-9df3-4b5a84be39ad';
/** AWS managed origin request policy `Managed-AllViewerExceptHostHeader`. */
export const MANAGED_ALL_VIEWER_EXCEPT_HOST_HEADER = 'b689b0a8-53d0-40ab-baf2-68738e2966ac';
/** AWS managed origin request policy `Managed-AllViewer` (every header, Host included, every cookie and query string). */
export const MANAGED_ALL_VIEWER = '216adef6-5c7f-47e4-b989-5492eafa07d3';
/** CloudFront log delivery sources must be created in us-east-1. */
export const CLOUDFRONT_LOG_DELIVERY_REGION = 'us-east-1';
/** Every method ComfyUI's API uses. */
const ALL_METHODS = ['DELETE', 'GET', 'HEAD', 'OPTIONS', 'PATCH', 'POST', 'PUT'];
const READ_METHODS = ['GET', 'HEAD'];
const ORIGIN_ID = 'comfyui-alb';

/** A custom domain served with an ACM certificate from us-east-1. */
export interface EdgeCustomDomain {
  /** DNS name users open. */
  readonly domainName: string;
  /** ACM certificate ARN in us-east-1 covering the name. */
  readonly certificateArn: string;
}

export interface EdgeDistributionProps {
  /** Name prefix (`<name>-<environment>`). */
  readonly namePrefix: string;
  /** Id of the CloudFront VPC origin pointing at the ALB. */
  readonly vpcOriginId: string;
  /** Origin domain: the ALB DNS name, or the name on its certificate for HTTPS. */
  readonly originDomainName: string;
  /** Seconds CloudFront waits for the origin's response (1-180; above 60 needs a quota increase). */
  readonly originReadTimeoutSeconds: number;
  /** Seconds CloudFront keeps idle origin connections (1-180; above 60 needs a quota increase). */
  readonly originKeepaliveTimeoutSeconds: number;
  /** ARN of the viewer-request auth function; unset when auth is off or the origin authenticates. */
  readonly viewerRequestFunctionArn?: string;
  /** Header the viewer-request function adds for the origin: forwarded on cached behaviours too. */
  readonly originVerifyHeader?: string;
  /** The origin (the ALB) authenticates: forward Host and every cookie, cache nothing. */
  readonly originAuthenticates?: boolean;
  /** WAF web ACL ARN (scope CLOUDFRONT). */
  readonly webAclArn?: string;
  /** Serve IPv6 viewers. Default: true; off when the WAF's client allow-list (IPv4 only) must see every viewer. */
  readonly ipv6Enabled?: boolean;
  /** Custom domain; unset: the cloudfront.net name. */
  readonly customDomain?: EdgeCustomDomain;
  /** PriceClass_100, PriceClass_200 or PriceClass_All. */
  readonly priceClass: string;
  /** S3 destination of access logs: bucket ARN plus key prefix, e.g. arn:aws:s3:::bucket/cloudfront. */
  readonly logDestinationArn: string;
  /** Resources log delivery waits for (the log bucket policy). */
  readonly logDependsOn?: ITerraformDependable[];
  /** Wake path of elastic serving (constructs/edge/wake-endpoint.ts): its origin, behaviour and 503 page. Default: none. */
  readonly wake?: WakeDistributionParts;
}

export class EdgeDistribution extends Construct {
  /** The distribution. */
  public readonly distribution: CloudfrontDistribution;
  /** Hostname users open (custom domain, else the cloudfront.net name). */
  public readonly publicHostname: string;

  constructor(scope: Construct, id: string, props: EdgeDistributionProps) {
    super(scope, id);
    const name = (suffix: string) => `${props.namePrefix}-${suffix}`;

    if (props.originAuthenticates && props.viewerRequestFunctionArn) {
      throw new Error('edge.auth.mode: authenticate either at the edge (function) or at the origin, not both');
    }
    // Edge caching only when the edge authenticates: the function runs before the cache, the ALB after it.
    let assetPolicies: { immutable: CloudfrontCachePolicy; originCached: CloudfrontCachePolicy } | undefined;
    if (!props.originAuthenticates) {
      const immutable = new CloudfrontCachePolicy(this, 'ImmutableAssets', {
        name: name('immutable-assets'),
        comment: 'Content-hashed frontend bundles: cached for a day or more whatever the origin says',
        minTtl: 86400,
        defaultTtl: 604800,
        maxTtl: 31536000,
        parametersInCacheKeyAndForwardedToOrigin: {
          enableAcceptEncodingBrotli: true,
          enableAcceptEncodingGzip: true,
          cookiesConfig: { cookieBehavior: 'none' },
          headersConfig: { headerBehavior: 'none' },
          queryStringsConfig: { queryStringBehavior: 'none' },
        },
      });

      const originCached = new CloudfrontCachePolicy(this, 'OriginCachedAssets', {
        name: name('extension-assets'),
        comment: 'Custom-node web files: cached as the origin says, 5 minutes by default',
        minTtl: 0,
        defaultTtl: 300,
        maxTtl: 86400,
        parametersInCacheKeyAndForwardedToOrigin: {
          enableAcceptEncodingBrotli: true,
          enableAcceptEncodingGzip: true,
          cookiesConfig: { cookieBehavior: 'none' },
          headersConfig: { headerBehavior: 'none' },
          // Extensions bust caches with ?v=...; keep query strings in the key.
          queryStringsConfig: { queryStringBehavior: 'all' },
        },
      });
      assetPolicies = { immutable, originCached };
    }
    // Cached behaviours forward no viewer header by default; the origin header must still reach the ALB on a miss.
    const assetRequestPolicy = props.originVerifyHeader
      ? new CloudfrontOriginRequestPolicy(this, 'AssetOriginRequest', {
          name: name('asset-origin-request'),
          comment: 'Cache misses of asset behaviours: only the origin header the edge function adds',
          cookiesConfig: { cookieBehavior: 'none' },
          headersConfig: { headerBehavior: 'whitelist', headers: { items: [props.originVerifyHeader] } },
          queryStringsConfig: { queryStringBehavior: 'none' },
        })
      : undefined;

    const securityHeaders = new CloudfrontResponseHeadersPolicy(this, 'SecurityHeaders', {
      name: name('edge-security-headers'),
      comment: 'HSTS, nosniff, same-origin framing, strict referrer',
      securityHeadersConfig: {
        // preload stays an explicit decision of the domain owner (it commits the whole domain to HTTPS in browsers).
        strictTransportSecurity: { accessControlMaxAgeSec: 31536000, includeSubdomains: true, preload: false, override: true },
        contentTypeOptions: { override: true },
        frameOptions: { frameOption: 'SAMEORIGIN', override: true },
        referrerPolicy: { referrerPolicy: 'strict-origin-when-cross-origin', override: true },
      },
    });

    const functionAssociation: CloudfrontDistributionDefaultCacheBehaviorFunctionAssociation[] | undefined = props.viewerRequestFunctionArn
      ? [{ eventType: 'viewer-request', functionArn: props.viewerRequestFunctionArn }]
      : undefined;
    const common = {
      targetOriginId: ORIGIN_ID,
      viewerProtocolPolicy: 'redirect-to-https',
      compress: true,
      responseHeadersPolicyId: securityHeaders.id,
      functionAssociation,
    };

    const viewerCertificate: CloudfrontDistributionViewerCertificate = props.customDomain
      ? { acmCertificateArn: props.customDomain.certificateArn, sslSupportMethod: 'sni-only', minimumProtocolVersion: 'TLSv1.2_2021' }
      : { cloudfrontDefaultCertificate: true };

    this.distribution = new CloudfrontDistribution(this, 'Distribution', {
      enabled: true,
      comment: `ComfyUI ${props.namePrefix}`,
      httpVersion: 'http2and3',
      isIpv6Enabled: props.ipv6Enabled ?? true,
      priceClass: props.priceClass,
      aliases: props.customDomain ? [props.customDomain.domainName] : undefined,
      webAclId: props.webAclArn,
      origin: [
        ...(props.wake ? [props.wake.origin] : []),
        {
          originId: ORIGIN_ID,
          domainName: props.originDomainName,
          vpcOriginConfig: {
            vpcOriginId: props.vpcOriginId,
            originReadTimeout: props.originReadTimeoutSeconds,
            originKeepaliveTimeout: props.originKeepaliveTimeoutSeconds,
          },
        },
      ],
      defaultCacheBehavior: {
        ...common,
        allowedMethods: ALL_METHODS,
        cachedMethods: READ_METHODS,
        cachePolicyId: MANAGED_CACHING_DISABLED,
        originRequestPolicyId: props.originAuthenticates ? MANAGED_ALL_VIEWER : MANAGED_ALL_VIEWER_EXCEPT_HOST_HEADER,
      },
      orderedCacheBehavior: (assetPolicies || props.wake) && [
        ...(props.wake
          ? [{ ...common, ...props.wake.behavior, functionAssociation: [...(functionAssociation ?? []), { eventType: 'viewer-response', functionArn: props.wake.viewerResponseFunctionArn }] }]
          : []),
        ...(assetPolicies
          ? [
              { ...common, pathPattern: '/assets/*', allowedMethods: READ_METHODS, cachedMethods: READ_METHODS, cachePolicyId: assetPolicies.immutable.id, originRequestPolicyId: assetRequestPolicy?.id },
              { ...common, pathPattern: '/extensions/*', allowedMethods: READ_METHODS, cachedMethods: READ_METHODS, cachePolicyId: assetPolicies.originCached.id, originRequestPolicyId: assetRequestPolicy?.id },
            ]
          : []),
      ],
      // A restarting pod's 502/503/504 must not be served from cache (the default keeps errors 10 s).
      // With the wake path, the ALB's 503 (no replica) becomes the wake page.
      customErrorResponse: [500, 502, 503, 504].map((errorCode) => ({ errorCode, errorCachingMinTtl: 0, ...props.wake?.errorResponses[errorCode] })),
      restrictions: { geoRestriction: { restrictionType: 'none' } },
      viewerCertificate,
    });
    this.publicHostname = props.customDomain ? props.customDomain.domainName : this.distribution.domainName;

    const source = new CloudwatchLogDeliverySource(this, 'LogSource', {
      region: CLOUDFRONT_LOG_DELIVERY_REGION,
      name: name('edge-cloudfront'),
      logType: 'ACCESS_LOGS',
      resourceArn: this.distribution.arn,
    });
    const destination = new CloudwatchLogDeliveryDestination(this, 'LogDestination', {
      region: CLOUDFRONT_LOG_DELIVERY_REGION,
      name: name('edge-cloudfront-s3'),
      outputFormat: 'json',
      deliveryDestinationConfiguration: [{ destinationResourceArn: props.logDestinationArn }],
    });
    new CloudwatchLogDelivery(this, 'LogDelivery', {
      region: CLOUDFRONT_LOG_DELIVERY_REGION,
      deliverySourceName: source.name,
      deliveryDestinationArn: destination.arn,
      s3DeliveryConfiguration: [{ suffixPath: '/{DistributionId}/{yyyy}/{MM}/{dd}/{HH}', enableHiveCompatiblePath: false }],
      dependsOn: props.logDependsOn,
    });
  }
}
