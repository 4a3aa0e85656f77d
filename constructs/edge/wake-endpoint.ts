/**
 * The wake path of elastic serving, at the edge. When ComfyUI has no replica
 * the internal ALB answers 503 (its target group has no registered target);
 * CloudFront then serves its custom error page for 503 from `/_wake/page`,
 * which this construct's function answers: it puts a message on the wake
 * queue (KEDA activates the ScaledObject on the next poll) and returns the
 * "Starting a GPU for you" page, which viewers get with status 503. Custom error pages
 * apply to every method, so a POST /prompt at zero wakes the GPU too (origin
 * failover would only cover GET, HEAD and OPTIONS). API clients ask
 * `/_wake/status` for the JSON form (503 + Retry-After + JSON).
 *
 * The function URL requires SigV4 (AWS_IAM) and only CloudFront, through an
 * origin access control, may invoke it, and only for this distribution: the
 * endpoint is reachable through CloudFront alone, behind the same viewer
 * authentication as the rest of the site.
 */
import { CloudfrontFunction } from '@cdktf/provider-aws/lib/cloudfront-function';
import { CloudfrontOriginAccessControl } from '@cdktf/provider-aws/lib/cloudfront-origin-access-control';
import { CloudwatchLogGroup } from '@cdktf/provider-aws/lib/cloudwatch-log-group';
import { DataAwsIamPolicyDocument } from '@cdktf/provider-aws/lib/data-aws-iam-policy-document';
import { IamRole } from '@cdktf/provider-aws/lib/iam-role';
import { IamRolePolicy } from '@cdktf/provider-aws/lib/iam-role-policy';
import { LambdaFunction } from '@cdktf/provider-aws/lib/lambda-function';
import { LambdaFunctionUrl } from '@cdktf/provider-aws/lib/lambda-function-url';
import { LambdaPermission } from '@cdktf/provider-aws/lib/lambda-permission';
import { AssetType, Fn, TerraformAsset } from 'cdktf';
import { Construct } from 'constructs';
import { WAKE_ENV } from '../../lambdas/wake/handler';
import { DEFAULT_RETRY_AFTER_SECONDS } from '../../lambdas/wake/page';
import { WAKE_VIEWER_RESPONSE_CODE } from '../../lambdas/wake/viewer-response';
import { bundleLambda, LambdaBundle } from '../models/lambda-bundle';
import { MANAGED_CACHING_DISABLED } from './edge-distribution';

/** Path prefix the wake function serves under. */
export const WAKE_PATH_PATTERN = '/_wake/*';
/** CloudFront's custom error page for 503 (HTML for browsers). */
export const WAKE_PAGE_PATH = '/_wake/page';
/** JSON status for API clients (`npm run comfy` asks it after a 503). */
export const WAKE_STATUS_PATH = '/_wake/status';
/** Origin id of the function URL in the distribution. */
export const WAKE_ORIGIN_ID = 'comfyui-wake';
/** Runtime of the function; the bundle targets the same Node.js version. */
export const WAKE_RUNTIME = { runtime: 'nodejs22.x', esbuildTarget: 'node22' } as const;
export const WAKE_ENTRY = 'lambdas/wake/handler.ts';

/** What EdgeDistribution adds for the wake path. */
export interface WakeDistributionParts {
  /** The function URL origin (with the origin access control). */
  readonly origin: {
    readonly originId: string;
    readonly domainName: string;
    readonly originAccessControlId: string;
    readonly customOriginConfig: { httpPort: number; httpsPort: number; originProtocolPolicy: string; originSslProtocols: string[] };
  };
  /** The `/_wake/*` cache behaviour (GET/HEAD, nothing cached). */
  readonly behavior: { pathPattern: string; targetOriginId: string; allowedMethods: string[]; cachedMethods: string[]; cachePolicyId: string };
  /** Viewer-response function of that behaviour (sets the 503 viewers see). */
  readonly viewerResponseFunctionArn: string;
  /** Custom error responses by status code. */
  readonly errorResponses: Record<number, { responsePagePath: string; responseCode: number }>;
}

export interface WakeEndpointProps {
  /** Function name (also the role and log group names). */
  readonly functionName: string;
  /** Account id (token), for the Lambda service trust condition. */
  readonly accountId: string;
  /** Wake queue URL and ARN. */
  readonly queue: { readonly url: string; readonly arn: string };
  /** EKS cluster name (the ClusterName dimension of WakeRequests). */
  readonly clusterName: string;
  /** Retention of the function's log group in days. */
  readonly logRetentionDays: number;
  /** Seconds clients are told to wait (Retry-After, page reload). Default: 10. */
  readonly retryAfterSeconds?: number;
}

export class WakeEndpoint extends Construct {
  /** The function. */
  public readonly function: LambdaFunction;
  /** Its function URL (IAM auth). */
  public readonly url: LambdaFunctionUrl;
  /** The origin access control CloudFront signs with. */
  public readonly originAccessControl: CloudfrontOriginAccessControl;
  /** Viewer-response function of `/_wake/*`: 200 from the function -> 503 for the viewer. */
  public readonly viewerResponse: CloudfrontFunction;
  /** The parts EdgeDistribution takes. */
  public readonly distributionParts: WakeDistributionParts;
  /** The bundle deployed. */
  public readonly bundle: LambdaBundle;

  constructor(scope: Construct, id: string, props: WakeEndpointProps) {
    super(scope, id);
    this.bundle = bundleLambda({ entry: WAKE_ENTRY, target: WAKE_RUNTIME.esbuildTarget });
    const asset = new TerraformAsset(this, 'Code', { path: this.bundle.directory, type: AssetType.ARCHIVE });

    const logGroup = new CloudwatchLogGroup(this, 'LogGroup', { name: `/aws/lambda/${props.functionName}`, retentionInDays: props.logRetentionDays });

    const assumeRole = new DataAwsIamPolicyDocument(this, 'AssumeRole', {
      statement: [
        {
          effect: 'Allow',
          actions: ['sts:AssumeRole'],
          principals: [{ type: 'Service', identifiers: ['lambda.amazonaws.com'] }],
          condition: [{ test: 'StringEquals', variable: 'aws:SourceAccount', values: [props.accountId] }],
        },
      ],
    });
    const role = new IamRole(this, 'Role', {
      name: `${props.functionName}-lambda`,
      description: 'Wake function: signals the wake queue when ComfyUI has no replica',
      assumeRolePolicy: assumeRole.json,
    });
    const permissions = new DataAwsIamPolicyDocument(this, 'Permissions', {
      statement: [
        { sid: 'SignalWakeQueue', effect: 'Allow', actions: ['sqs:SendMessage'], resources: [props.queue.arn] },
        { sid: 'WriteOwnLogs', effect: 'Allow', actions: ['logs:CreateLogStream', 'logs:PutLogEvents'], resources: [`${logGroup.arn}:*`] },
        // X-Ray has no resource-level permissions for these two calls.
        { sid: 'WriteTraces', effect: 'Allow', actions: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'], resources: ['*'] },
      ],
    });
    new IamRolePolicy(this, 'Policy', { name: 'wake', role: role.id, policy: permissions.json });

    const retryAfter = props.retryAfterSeconds ?? DEFAULT_RETRY_AFTER_SECONDS;
    this.function = new LambdaFunction(this, 'Function', {
      functionName: props.functionName,
      description: 'Starts ComfyUI from zero replicas: wake queue message + "Starting a GPU" page',
      role: role.arn,
      runtime: WAKE_RUNTIME.runtime,
      architectures: ['arm64'],
      handler: 'index.handler',
      filename: asset.path,
      sourceCodeHash: this.bundle.sha256,
      // The page must reach the browser within 2 s: one SendMessage call, more memory = faster cold start.
      timeout: 5,
      memorySize: 512,
      loggingConfig: { logFormat: 'Text', logGroup: logGroup.name },
      tracingConfig: { mode: 'Active' },
      environment: {
        variables: {
          [WAKE_ENV.queueUrl]: props.queue.url,
          [WAKE_ENV.clusterName]: props.clusterName,
          [WAKE_ENV.retryAfterSeconds]: String(retryAfter),
        },
      },
      dependsOn: [logGroup],
    });

    this.url = new LambdaFunctionUrl(this, 'Url', { functionName: this.function.functionName, authorizationType: 'AWS_IAM' });

    this.originAccessControl = new CloudfrontOriginAccessControl(this, 'OriginAccessControl', {
      name: props.functionName,
      description: 'CloudFront signs requests to the wake function URL',
      originAccessControlOriginType: 'lambda',
      // Always: the viewer's own Authorization header (Basic auth) is replaced by CloudFront's signature.
      signingBehavior: 'always',
      signingProtocol: 'sigv4',
    });

    this.viewerResponse = new CloudfrontFunction(this, 'ViewerResponse', {
      name: `${props.functionName}-status`,
      comment: 'Wake path: the 200 of the wake function becomes the 503 + Retry-After viewers see',
      runtime: 'cloudfront-js-2.0',
      code: WAKE_VIEWER_RESPONSE_CODE,
      publish: true,
    });

    this.distributionParts = {
      origin: {
        originId: WAKE_ORIGIN_ID,
        // https://<id>.lambda-url.<region>.on.aws/ -> <id>.lambda-url.<region>.on.aws
        domainName: Fn.element(Fn.split('/', this.url.functionUrl), 2),
        originAccessControlId: this.originAccessControl.id,
        customOriginConfig: { httpPort: 80, httpsPort: 443, originProtocolPolicy: 'https-only', originSslProtocols: ['TLSv1.2'] },
      },
      behavior: {
        pathPattern: WAKE_PATH_PATTERN,
        targetOriginId: WAKE_ORIGIN_ID,
        allowedMethods: ['GET', 'HEAD'],
        cachedMethods: ['GET', 'HEAD'],
        cachePolicyId: MANAGED_CACHING_DISABLED,
      },
      viewerResponseFunctionArn: this.viewerResponse.arn,
      errorResponses: { 503: { responsePagePath: WAKE_PAGE_PATH, responseCode: 503 } },
    };
  }

  /** Lets exactly this distribution invoke the function through its URL. */
  public allowDistribution(distributionArn: string): void {
    new LambdaPermission(this, 'AllowCloudFrontUrl', {
      statementId: 'AllowCloudFrontFunctionUrl',
      action: 'lambda:InvokeFunctionUrl',
      functionName: this.function.functionName,
      principal: 'cloudfront.amazonaws.com',
      sourceArn: distributionArn,
      functionUrlAuthType: 'AWS_IAM',
    });
    // Function URLs behind an origin access control also need lambda:InvokeFunction for the same principal.
    new LambdaPermission(this, 'AllowCloudFrontInvoke', {
      statementId: 'AllowCloudFrontInvoke',
      action: 'lambda:InvokeFunction',
      functionName: this.function.functionName,
      principal: 'cloudfront.amazonaws.com',
      sourceArn: distributionArn,
    });
  }
}
