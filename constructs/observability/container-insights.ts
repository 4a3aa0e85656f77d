/**
 * GPU (and node/pod) metrics: the Amazon CloudWatch Observability EKS add-on
 * with Container Insights enhanced observability. On GPU nodes it runs
 * NVIDIA's DCGM exporter itself and publishes node_gpu_* / pod_gpu_* metrics
 * to the `ContainerInsights` namespace, where the dashboard and alarms read
 * them beside everything else (docs/observability.md explains the choice
 * against DCGM exporter + an Amazon Managed Service for Prometheus scraper).
 *
 * The agent's AWS access is EKS Pod Identity, least privilege: metrics in
 * the ContainerInsights namespace, log events into this cluster's
 * /aws/containerinsights/<cluster>/* log groups (created here, with
 * retention, so the agent never creates one without), EC2 Describe calls
 * for node metadata.
 */
import { CloudwatchLogGroup } from '@cdktf/provider-aws/lib/cloudwatch-log-group';
import { EksAddon } from '@cdktf/provider-aws/lib/eks-addon';
import { Construct } from 'constructs';
import { ManagedAddon } from '../cluster/managed-addon';
import { PodIdentityRole } from '../identity/pod-identity-role';
import { CONTAINER_INSIGHTS } from './platform-dashboard';

/** The add-on and the service account its agent runs as. */
export const CLOUDWATCH_OBSERVABILITY_ADDON = { name: 'amazon-cloudwatch-observability', namespace: 'amazon-cloudwatch', serviceAccount: 'cloudwatch-agent' } as const;

export interface ContainerInsightsProps {
  /** EKS cluster name (token). */
  readonly clusterName: string;
  /** Pinned add-on version. */
  readonly addonVersion: string;
  /** Ship container stdout/stderr to CloudWatch Logs too (Fluent Bit; billed per GB ingested). */
  readonly containerLogs: boolean;
  /** Retention of the Container Insights log groups in days. */
  readonly logRetentionDays: number;
  /** IAM role name of the agent. */
  readonly roleName: string;
  readonly accountId: string;
  readonly region: string;
  readonly partition: string;
}

export class ContainerInsights extends Construct {
  /** The add-on. */
  public readonly addon: EksAddon;
  /** The agent's Pod Identity role. */
  public readonly role: PodIdentityRole;
  /** Log groups the agent writes to (created here with retention). */
  public readonly logGroups: CloudwatchLogGroup[];

  constructor(scope: Construct, id: string, props: ContainerInsightsProps) {
    super(scope, id);
    const base = `/aws/containerinsights/${props.clusterName}`;
    // performance: the EMF events metrics are extracted from; the others only with container logs on.
    const kinds = props.containerLogs ? ['performance', 'application', 'dataplane', 'host'] : ['performance'];
    this.logGroups = kinds.map((kind) => new CloudwatchLogGroup(this, `LogGroup-${kind}`, { name: `${base}/${kind}`, retentionInDays: props.logRetentionDays }));
    const logGroupArn = `arn:${props.partition}:logs:${props.region}:${props.accountId}:log-group:${base}/*`;

    this.role = new PodIdentityRole(this, 'AgentRole', {
      roleName: props.roleName,
      description: 'CloudWatch agent of the amazon-cloudwatch-observability add-on (EKS Pod Identity)',
      accountId: props.accountId,
      clusterName: props.clusterName,
      namespace: CLOUDWATCH_OBSERVABILITY_ADDON.namespace,
      serviceAccount: CLOUDWATCH_OBSERVABILITY_ADDON.serviceAccount,
      // The add-on creates the association itself (podIdentityAssociation below).
      associate: false,
      statements: [
        {
          sid: 'PublishContainerInsightsMetrics',
          effect: 'Allow',
          actions: ['cloudwatch:PutMetricData'],
          resources: ['*'],
          condition: [{ test: 'StringEquals', variable: 'cloudwatch:namespace', values: [CONTAINER_INSIGHTS.namespace] }],
        },
        {
          sid: 'WriteClusterLogGroups',
          effect: 'Allow',
          actions: ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents', 'logs:DescribeLogStreams'],
          resources: [logGroupArn, `${logGroupArn}:*`],
        },
        {
          sid: 'ReadNodeMetadata',
          effect: 'Allow',
          actions: ['ec2:DescribeInstances', 'ec2:DescribeTags', 'ec2:DescribeVolumes'],
          resources: ['*'],
        },
      ],
    });

    this.addon = new ManagedAddon(this, 'Addon', {
      clusterName: props.clusterName,
      addonName: CLOUDWATCH_OBSERVABILITY_ADDON.name,
      addonVersion: props.addonVersion,
      configuration: { containerLogs: { enabled: props.containerLogs } },
      podIdentity: { serviceAccount: CLOUDWATCH_OBSERVABILITY_ADDON.serviceAccount, roleArn: this.role.roleArn },
      dependsOn: this.logGroups,
    }).addon;
  }
}
