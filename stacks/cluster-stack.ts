/**
 * Cluster stack: the EKS cluster and everything AWS-side it needs to run
 * controllers. Control plane with access entries and encrypted secrets,
 * administrators from config, the node security group, the system managed
 * node group, and the managed add-ons at pinned versions. AWS provider only:
 * in-cluster resources live in the platform and app stacks (KubeProviders).
 *
 * Add-on order: vpc-cni, kube-proxy and the Pod Identity agent are DaemonSets
 * the nodes need to become Ready, so they go first; CoreDNS and the S3 CSI
 * driver have Deployments that need nodes, so they follow the node group.
 */
import { Annotations } from 'cdktf';
import { Construct } from 'constructs';
import { clusterName, defaultTags, karpenterDiscoveryTag, SYSTEM_NODE_LABEL, SYSTEM_NODE_TAINT, SYSTEM_NODE_TOLERATION } from '../config';
import { ClusterAdminAccess } from '../constructs/cluster/cluster-admin-access';
import { EksControlPlane } from '../constructs/cluster/eks-control-plane';
import { ManagedAddon } from '../constructs/cluster/managed-addon';
import { MountpointS3CsiRole, S3_CSI_SERVICE_ACCOUNT } from '../constructs/cluster/mountpoint-s3-csi-role';
import { NodeSecurityGroup } from '../constructs/cluster/node-security-group';
import { SecretsKey } from '../constructs/cluster/secrets-key';
import { SystemNodeGroup } from '../constructs/cluster/system-node-group';
import { ClusterOutputs, NetworkOutputs, StorageOutputs } from './contracts';
import { PlatformStack, PlatformStackProps } from './platform-stack';

export interface ClusterStackProps extends PlatformStackProps {
  /** The VPC and subnets the cluster runs in. */
  readonly network: NetworkOutputs;
  /** The buckets the S3 CSI driver may mount (outputs, inputs) and their key. */
  readonly storage: StorageOutputs;
}

export class ClusterStack extends PlatformStack {
  /** Typed outputs for the capacity, platform, edge and app stacks. */
  public readonly outputs: ClusterOutputs;

  constructor(scope: Construct, id: string, props: ClusterStackProps) {
    super(scope, id, props);
    const { config, network, storage } = props;
    const cluster = config.cluster;
    const name = clusterName(config);
    const { accountId, partition } = this;

    const secretsKey = new SecretsKey(this, 'SecretsKey', { alias: `alias/${this.prefix}-eks-secrets`, accountId, partition });

    const controlPlane = new EksControlPlane(this, 'ControlPlane', {
      clusterName: name,
      kubernetesVersion: cluster.kubernetesVersion,
      subnetIds: network.privateSubnetIds,
      endpointPublicAccess: cluster.endpointPublicAccess,
      publicAccessCidrs: cluster.publicAccessCidrs,
      secretsKeyArn: secretsKey.keyArn,
      logRetentionDays: cluster.logRetentionDays,
      logKmsKeyArn: cluster.logKmsKeyArn,
      roleName: `${this.prefix}-eks-cluster`,
      partition,
    });
    const eks = controlPlane.cluster;
    const clusterSecurityGroupId = eks.vpcConfig.clusterSecurityGroupId;

    new ClusterAdminAccess(this, 'Admins', {
      clusterName: eks.name,
      principalArns: cluster.adminPrincipalArns,
      includeDeployer: cluster.grantDeployerAdmin,
      partition,
    });
    // Plan-only roles (the pull-request workflow) read in-cluster state but change nothing.
    new ClusterAdminAccess(this, 'Viewers', {
      clusterName: eks.name,
      principalArns: cluster.viewerPrincipalArns,
      partition,
      accessPolicy: 'AmazonEKSAdminViewPolicy',
    });
    if (cluster.adminPrincipalArns.length === 0 && !cluster.grantDeployerAdmin) {
      Annotations.of(this).addWarning(
        'No cluster administrators: cluster.adminPrincipalArns is empty and cluster.grantDeployerAdmin is false, so nobody (including the in-cluster stacks) can reach the Kubernetes API. Add the role you deploy with to cluster.adminPrincipalArns.',
      );
    }

    const nodeSecurityGroup = new NodeSecurityGroup(this, 'NodeSecurityGroup', {
      vpcId: network.vpcId,
      name: `${this.prefix}-nodes`,
      clusterSecurityGroupId,
      discoveryTag: karpenterDiscoveryTag(config),
    });

    const addon = (id: string, addonName: string, addonVersion: string, extra: Partial<ConstructorParameters<typeof ManagedAddon>[2]> = {}) =>
      new ManagedAddon(this, id, { clusterName: eks.name, addonName, addonVersion, ...extra }).addon;

    const vpcCni = addon('VpcCni', 'vpc-cni', cluster.addons.vpcCni, {
      // Enforce Kubernetes NetworkPolicy (the chart ships policies for ComfyUI).
      configuration: { enableNetworkPolicy: 'true' },
    });
    const kubeProxy = addon('KubeProxy', 'kube-proxy', cluster.addons.kubeProxy);
    const podIdentityAgent = addon('PodIdentityAgent', 'eks-pod-identity-agent', cluster.addons.podIdentityAgent);

    const systemNodes = new SystemNodeGroup(this, 'SystemNodes', {
      clusterName: eks.name,
      name: `${this.prefix}-system`,
      subnetIds: network.privateSubnetIds,
      securityGroupIds: [clusterSecurityGroupId, nodeSecurityGroup.securityGroup.id],
      instanceTypes: cluster.systemNodes.instanceTypes,
      minSize: cluster.systemNodes.minSize,
      desiredSize: cluster.systemNodes.desiredSize,
      maxSize: cluster.systemNodes.maxSize,
      rootVolumeGiB: cluster.systemNodes.rootVolumeGiB,
      metadataHopLimit: cluster.systemNodes.metadataHopLimit,
      labels: { [SYSTEM_NODE_LABEL.key]: SYSTEM_NODE_LABEL.value },
      taints: [SYSTEM_NODE_TAINT],
      instanceTags: { ...defaultTags(config), Name: `${this.prefix}-system` },
      partition,
      dependsOn: [vpcCni, kubeProxy, podIdentityAgent],
    });

    addon('CoreDns', 'coredns', cluster.addons.coreDns, {
      configuration: { nodeSelector: { [SYSTEM_NODE_LABEL.key]: SYSTEM_NODE_LABEL.value }, tolerations: [SYSTEM_NODE_TOLERATION] },
      dependsOn: [systemNodes.nodeGroup],
    });

    const s3CsiRole = new MountpointS3CsiRole(this, 'S3CsiRole', {
      roleName: `${this.prefix}-s3-csi`,
      clusterName: name,
      // Inputs are writable only when ComfyUI may write them (app.inputsWritable): the driver's role follows.
      writableBuckets: config.app.inputsWritable ? [storage.outputsBucket, storage.inputsBucket] : [storage.outputsBucket],
      readOnlyBuckets: config.app.inputsWritable ? [] : [storage.inputsBucket],
      dataKeyArn: storage.dataKeyArn,
      accountId,
      region: config.region,
    });
    addon('MountpointS3Csi', 'aws-mountpoint-s3-csi-driver', cluster.addons.mountpointS3Csi, {
      configuration: {
        // The node plugin must run wherever ComfyUI runs (tainted GPU nodes); the controller on system nodes.
        node: { tolerateAllTaints: true },
        controller: { tolerations: [SYSTEM_NODE_TOLERATION] },
      },
      podIdentity: { serviceAccount: S3_CSI_SERVICE_ACCOUNT.name, roleArn: s3CsiRole.role.arn },
      dependsOn: [systemNodes.nodeGroup, podIdentityAgent],
    });

    this.outputs = {
      clusterName: eks.name,
      clusterArn: eks.arn,
      endpoint: eks.endpoint,
      certificateAuthorityData: eks.certificateAuthority.get(0).data,
      clusterSecurityGroupId,
      nodeSecurityGroupId: nodeSecurityGroup.securityGroup.id,
      systemNodeRoleArn: systemNodes.role.arn,
    };
  }
}
