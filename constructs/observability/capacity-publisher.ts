/**
 * The capacity publisher Lambda (lambdas/capacity-metrics), run every minute
 * by an EventBridge rule: counts this cluster's GPU instances and publishes
 * `ComfyUI/Capacity` metrics, including the ESTIMATED GPU spend from the
 * configured price table. Allowed exactly what it does: ec2:DescribeInstances
 * (no resource-level permissions exist for it), PutMetricData in its own
 * namespace only, and writes to its own log group.
 */
import { CloudwatchEventRule } from '@cdktf/provider-aws/lib/cloudwatch-event-rule';
import { CloudwatchEventTarget } from '@cdktf/provider-aws/lib/cloudwatch-event-target';
import { CloudwatchLogGroup } from '@cdktf/provider-aws/lib/cloudwatch-log-group';
import { DataAwsIamPolicyDocument } from '@cdktf/provider-aws/lib/data-aws-iam-policy-document';
import { IamRolePolicy } from '@cdktf/provider-aws/lib/iam-role-policy';
import { LambdaFunction } from '@cdktf/provider-aws/lib/lambda-function';
import { LambdaFunctionEventInvokeConfig } from '@cdktf/provider-aws/lib/lambda-function-event-invoke-config';
import { LambdaPermission } from '@cdktf/provider-aws/lib/lambda-permission';
import { AssetType, TerraformAsset } from 'cdktf';
import { Construct } from 'constructs';
import { ENV, InstancePrice } from '../../lambdas/capacity-metrics/summary';
import { lambdaExecutionRole } from '../identity/lambda-execution-role';
import { bundleLambda, LambdaBundle } from '../models/lambda-bundle';
import { MODEL_SYNC_RUNTIME } from '../models/model-sync-function';
import { CAPACITY } from './metric-names';

export interface CapacityPublisherProps {
  /** Function name (also the role and rule name prefix). */
  readonly functionName: string;
  /** EKS cluster name (ClusterName dimension). */
  readonly clusterName: string;
  /** EC2 tag every GPU node of this cluster carries (gpuNodeTag(config)). */
  readonly gpuNodeTag: { readonly key: string; readonly value: string };
  /** USD per hour by instance type. */
  readonly prices: Readonly<Record<string, InstancePrice>>;
  /** Spot price as a fraction of On-Demand where a type has no spot price. */
  readonly spotPriceRatio: number;
  /** Account id (token). */
  readonly accountId: string;
  /** Retention of the function's log group in days. */
  readonly logRetentionDays: number;
}

/** The function's entry point, relative to the project root. */
export const CAPACITY_PUBLISHER_ENTRY = 'lambdas/capacity-metrics/handler.ts';

/** Lambda caps all environment variables of a function at 4 KB together. */
const ENVIRONMENT_LIMIT_BYTES = 4096;

export class CapacityPublisher extends Construct {
  /** The function. */
  public readonly function: LambdaFunction;
  /** The bundle deployed. */
  public readonly bundle: LambdaBundle;
  /** The per-minute schedule. */
  public readonly schedule: CloudwatchEventRule;

  constructor(scope: Construct, id: string, props: CapacityPublisherProps) {
    super(scope, id);
    const variables: Record<string, string> = {
      [ENV.clusterName]: props.clusterName,
      [ENV.tagKey]: props.gpuNodeTag.key,
      [ENV.tagValue]: props.gpuNodeTag.value,
      [ENV.prices]: JSON.stringify(props.prices),
      [ENV.spotPriceRatio]: String(props.spotPriceRatio),
    };
    const size = Object.entries(variables).reduce((n, [k, v]) => n + k.length + v.length, 0);
    if (size > ENVIRONMENT_LIMIT_BYTES) {
      throw new Error(`observability.gpuPrices: the price table takes ${size} bytes of the publisher's environment (Lambda allows ${ENVIRONMENT_LIMIT_BYTES}); list only the instance types the NodePools can launch`);
    }

    this.bundle = bundleLambda({ entry: CAPACITY_PUBLISHER_ENTRY, target: MODEL_SYNC_RUNTIME.esbuildTarget });
    const asset = new TerraformAsset(this, 'Code', { path: this.bundle.directory, type: AssetType.ARCHIVE });

    const logGroup = new CloudwatchLogGroup(this, 'LogGroup', { name: `/aws/lambda/${props.functionName}`, retentionInDays: props.logRetentionDays });

    const role = lambdaExecutionRole(this, {
      functionName: props.functionName,
      description: 'Capacity publisher: counts GPU instances, publishes ComfyUI/Capacity metrics',
      accountId: props.accountId,
    });
    const permissions = new DataAwsIamPolicyDocument(this, 'Permissions', {
      statement: [
        { sid: 'ListInstances', effect: 'Allow', actions: ['ec2:DescribeInstances'], resources: ['*'] },
        {
          sid: 'PublishOwnNamespaceOnly',
          effect: 'Allow',
          actions: ['cloudwatch:PutMetricData'],
          resources: ['*'],
          condition: [{ test: 'StringEquals', variable: 'cloudwatch:namespace', values: [CAPACITY.namespace] }],
        },
        { sid: 'WriteOwnLogs', effect: 'Allow', actions: ['logs:CreateLogStream', 'logs:PutLogEvents'], resources: [`${logGroup.arn}:*`] },
      ],
    });
    new IamRolePolicy(this, 'Policy', { name: 'capacity-publisher', role: role.id, policy: permissions.json });

    this.function = new LambdaFunction(this, 'Function', {
      functionName: props.functionName,
      description: 'Publishes GPU node counts by capacity/instance type and the estimated GPU spend (ComfyUI/Capacity)',
      role: role.arn,
      runtime: MODEL_SYNC_RUNTIME.runtime,
      architectures: ['arm64'],
      handler: 'index.handler',
      filename: asset.path,
      sourceCodeHash: this.bundle.sha256,
      // Shorter than the schedule's minute, so two runs never overlap (no reserved concurrency needed).
      timeout: 30,
      memorySize: 128,
      loggingConfig: { logFormat: 'Text', logGroup: logGroup.name },
      environment: { variables },
      dependsOn: [logGroup],
    });

    // A failed minute is superseded by the next run: no retries, no stale events (the errors alarm reports failures).
    new LambdaFunctionEventInvokeConfig(this, 'AsyncInvoke', { functionName: this.function.functionName, maximumRetryAttempts: 0, maximumEventAgeInSeconds: 60 });

    this.schedule = new CloudwatchEventRule(this, 'Schedule', {
      name: `${props.functionName}-every-minute`,
      description: 'Runs the capacity publisher once a minute',
      scheduleExpression: 'rate(1 minute)',
    });
    new CloudwatchEventTarget(this, 'Target', { rule: this.schedule.name, targetId: 'capacity-publisher', arn: this.function.arn });
    new LambdaPermission(this, 'InvokeFromSchedule', {
      statementId: 'AllowScheduleInvoke',
      action: 'lambda:InvokeFunction',
      functionName: this.function.functionName,
      principal: 'events.amazonaws.com',
      sourceArn: this.schedule.arn,
    });
  }
}
