/**
 * Capacity stack: Karpenter's AWS side. The controller's Pod Identity role,
 * the GPU node role, instance profile and access entry, the interruption
 * queue and its EventBridge rules, and the AWS Load Balancer Controller's
 * Pod Identity role, (autoscaling mode keda) the KEDA operator's Pod
 * Identity role, which reads the edge stack's wake queue, and the SSM document
 * GPU nodes install the model-sync command and units from at boot. AWS only: the in-cluster half (Helm releases, NodePool,
 * EC2NodeClass) is the cluster-addons stack.
 */
import { Construct } from 'constructs';
import { modelSyncCommandLogGroup, nodeFilesDocumentName, PlatformConfig } from '../config';
import { LOAD_BALANCER_CONTROLLER_NAMESPACE, loadBalancerControllerStatements } from '../constructs/addons/load-balancer-controller-policy';
import { GpuNodeRole } from '../constructs/capacity/gpu-node-role';
import { INTERRUPTION_RULES, InterruptionQueue } from '../constructs/capacity/interruption-queue';
import { karpenterControllerStatements } from '../constructs/capacity/karpenter-controller-policy';
import { PodIdentityRole } from '../constructs/identity/pod-identity-role';
import { NodeFilesDocument } from '../constructs/models/node-files-document';
import { kedaOperatorStatements } from '../constructs/scaling/keda-operator-policy';
import { CapacityMetricSources, CapacityOutputs, ClusterOutputs, EdgeOutputs, JobsOutputs, NetworkOutputs, StorageOutputs } from './contracts';
import { PlatformStack } from './platform-stack';

export interface CapacityStackProps {
  /** The validated platform configuration. */
  readonly config: PlatformConfig;
  /** The cluster Karpenter provisions nodes for. */
  readonly cluster: ClusterOutputs;
  /** Buckets and data key (GPU nodes read the models bucket). */
  readonly storage: StorageOutputs;
  /** VPC (the load balancer controller creates security groups only there, in ingress mode). */
  readonly network: NetworkOutputs;
  /** The target group the load balancer controller may register pods into. */
  readonly edge: EdgeOutputs;
  /** Batch jobs (jobs stack): KEDA's role reads the jobs backlog. Default: none. */
  readonly jobs?: JobsOutputs;
}

export class CapacityStack extends PlatformStack {
  /** Typed outputs for the cluster-addons stack. */
  public readonly outputs: CapacityOutputs;
  /** What the observability stack watches (interruption queue and rules). */
  public readonly metricSources: CapacityMetricSources;

  constructor(scope: Construct, id: string, props: CapacityStackProps) {
    super(scope, id, { config: props.config });
    const { config, cluster, storage, network, edge } = props;
    const { accountId, partition } = this;

    const nodeFiles = new NodeFilesDocument(this, 'NodeFiles', { name: nodeFilesDocumentName(config) });

    const nodeRole = new GpuNodeRole(this, 'GpuNodeRole', {
      name: `${this.prefix}-gpu-node`,
      partition,
      region: config.region,
      clusterName: cluster.clusterName,
      modelsBucket: storage.modelsBucket,
      dataKeyArn: storage.dataKeyArn,
      accountId,
      commandLogGroupName: modelSyncCommandLogGroup(config),
      nodeFilesDocumentArn: nodeFiles.arn,
    });

    const queue = new InterruptionQueue(this, 'InterruptionQueue', { queueName: `${this.prefix}-karpenter`, accountId });

    new PodIdentityRole(this, 'KarpenterController', {
      roleName: `${this.prefix}-karpenter-controller`,
      description: 'Karpenter controller (EKS Pod Identity)',
      accountId,
      clusterName: cluster.clusterName,
      namespace: config.karpenter.namespace,
      serviceAccount: config.karpenter.serviceAccount,
      statements: karpenterControllerStatements({
        partition,
        region: config.region,
        accountId,
        clusterName: cluster.clusterName,
        clusterArn: cluster.clusterArn,
        nodeRoleArn: nodeRole.role.arn,
        nodeInstanceProfileArn: nodeRole.instanceProfile.arn,
        interruptionQueueArn: queue.queueArn,
      }),
    });

    new PodIdentityRole(this, 'LoadBalancerController', {
      roleName: `${this.prefix}-aws-lb-controller`,
      description: 'AWS Load Balancer Controller (EKS Pod Identity)',
      accountId,
      clusterName: cluster.clusterName,
      namespace: LOAD_BALANCER_CONTROLLER_NAMESPACE,
      serviceAccount: config.karpenter.loadBalancerControllerServiceAccount,
      statements: loadBalancerControllerStatements({
        partition,
        region: config.region,
        accountId,
        clusterName: cluster.clusterName,
        mode: config.karpenter.loadBalancerControllerPermissions,
        targetGroupArn: edge.targetGroupArn,
        nodeSecurityGroupId: cluster.nodeSecurityGroupId,
        vpcId: network.vpcId,
      }),
    });

    // Elastic serving: KEDA's role exists before KEDA starts (cluster-addons), because Pod Identity
    // injects credentials only into pods created after their association. The wake queue is the edge's.
    const wakeQueue = edge.wakeQueue;
    if (config.app.autoscaling.mode === 'keda' && wakeQueue) {
      new PodIdentityRole(this, 'KedaOperator', {
        roleName: `${this.prefix}-keda-operator`,
        description: 'KEDA operator (EKS Pod Identity): wake queue depth and scaling metrics',
        accountId,
        clusterName: cluster.clusterName,
        namespace: config.keda.namespace,
        serviceAccount: config.keda.operatorServiceAccount,
        statements: kedaOperatorStatements({ wakeQueueArn: wakeQueue.arn, jobsQueueArn: props.jobs?.queueArn }),
        policyName: 'keda-scalers',
      });
    }

    this.outputs = {
      gpuNodeRoleName: nodeRole.role.name,
      gpuNodeRoleArn: nodeRole.role.arn,
      gpuNodeInstanceProfileName: nodeRole.instanceProfile.name,
      interruptionQueueName: queue.queueName,
      nodeFiles: { documentName: nodeFiles.name, documentVersion: nodeFiles.version, sha256: nodeFiles.sha256 },
    };
    const ruleName = (name: string) => queue.rules[INTERRUPTION_RULES.findIndex((r) => r.name === name)].name;
    this.metricSources = {
      queueName: queue.queueName,
      spotRuleName: ruleName('spot'),
      rebalanceRuleName: ruleName('rebalance'),
      stateChangeRuleName: ruleName('state-change'),
      scheduledChangeRuleName: ruleName('scheduled-change'),
    };
  }
}
