/**
 * VPC flow logs (accepted and rejected traffic) into a CloudWatch Logs group
 * with a retention period. The delivery role can only write to that one group
 * (plus the read-only DescribeLogGroups, which has no resource scope) and can
 * only be assumed by the flow-logs service for this account.
 */
import { CloudwatchLogGroup } from '@cdktf/provider-aws/lib/cloudwatch-log-group';
import { DataAwsIamPolicyDocument } from '@cdktf/provider-aws/lib/data-aws-iam-policy-document';
import { FlowLog } from '@cdktf/provider-aws/lib/flow-log';
import { IamRole } from '@cdktf/provider-aws/lib/iam-role';
import { IamRolePolicy } from '@cdktf/provider-aws/lib/iam-role-policy';
import { Construct } from 'constructs';

export interface VpcFlowLogsProps {
  /** VPC id. */
  readonly vpcId: string;
  /** Name prefix of the role and the log group (`<name>-<environment>`). */
  readonly namePrefix: string;
  /** Retention of the log group in days. */
  readonly retentionDays: number;
  /** KMS key ARN for the log group; unset: CloudWatch Logs default encryption. */
  readonly kmsKeyArn?: string;
  /** Account id (token) the flow-logs service acts for. */
  readonly accountId: string;
  /** AWS partition (`aws`, `aws-cn`, `aws-us-gov`). */
  readonly partition: string;
  /** Region of the VPC. */
  readonly region: string;
}

export class VpcFlowLogs extends Construct {
  /** The log group receiving the records. */
  public readonly logGroup: CloudwatchLogGroup;
  /** The flow log. */
  public readonly flowLog: FlowLog;

  constructor(scope: Construct, id: string, props: VpcFlowLogsProps) {
    super(scope, id);
    this.logGroup = new CloudwatchLogGroup(this, 'LogGroup', {
      name: `/aws/vpc/${props.namePrefix}/flow-logs`,
      retentionInDays: props.retentionDays,
      kmsKeyId: props.kmsKeyArn,
    });

    const trust = new DataAwsIamPolicyDocument(this, 'TrustPolicy', {
      statement: [
        {
          effect: 'Allow',
          actions: ['sts:AssumeRole'],
          principals: [{ type: 'Service', identifiers: ['vpc-flow-logs.amazonaws.com'] }],
          // Confused-deputy protection: only flow logs of this account may use the role.
          condition: [
            { test: 'StringEquals', variable: 'aws:SourceAccount', values: [props.accountId] },
            { test: 'ArnLike', variable: 'aws:SourceArn', values: [`arn:${props.partition}:ec2:${props.region}:${props.accountId}:vpc-flow-log/*`] },
          ],
        },
      ],
    });
    const role = new IamRole(this, 'Role', {
      name: `${props.namePrefix}-vpc-flow-logs`,
      description: 'Delivers VPC flow logs to their CloudWatch Logs group',
      assumeRolePolicy: trust.json,
    });
    const write = new DataAwsIamPolicyDocument(this, 'WritePolicy', {
      statement: [
        {
          sid: 'WriteFlowLogRecords',
          effect: 'Allow',
          actions: ['logs:CreateLogStream', 'logs:PutLogEvents', 'logs:DescribeLogStreams'],
          resources: [this.logGroup.arn, `${this.logGroup.arn}:log-stream:*`],
        },
        {
          // The service checks that the group exists; DescribeLogGroups only
          // reads group metadata, limited here to this account and region.
          sid: 'FindLogGroup',
          effect: 'Allow',
          actions: ['logs:DescribeLogGroups'],
          resources: [`arn:${props.partition}:logs:${props.region}:${props.accountId}:log-group:*`],
        },
      ],
    });
    new IamRolePolicy(this, 'WriteToLogGroup', { name: 'write-flow-logs', role: role.id, policy: write.json });

    this.flowLog = new FlowLog(this, 'FlowLog', {
      vpcId: props.vpcId,
      trafficType: 'ALL',
      logDestinationType: 'cloud-watch-logs',
      logDestination: this.logGroup.arn,
      iamRoleArn: role.arn,
      // One-minute aggregation: records appear quickly when debugging a blocked connection.
      maxAggregationInterval: 60,
      tags: { Name: `${props.namePrefix}-vpc` },
    });
  }
}
