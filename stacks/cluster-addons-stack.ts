/**
 * Cluster-addons stack: what runs in the cluster for capacity and traffic.
 * Karpenter (CRDs, then the controller), the GPU EC2NodeClass and NodePools
 * (local chart, after Karpenter), NVIDIA's device plugin, optionally the
 * DCGM exporter, the AWS Load Balancer Controller, and KEDA (autoscaling
 * mode keda). It talks to the
 * cluster through KubeProviders; every AWS resource these need (roles, Pod
 * Identity associations, the interruption queue) is in the capacity stack.
 */
import { Construct } from 'constructs';
import { defaultTags, PlatformConfig } from '../config';
import { DcgmExporter } from '../constructs/addons/dcgm-exporter';
import { LoadBalancerController } from '../constructs/addons/load-balancer-controller';
import { LOAD_BALANCER_CONTROLLER_NAMESPACE } from '../constructs/addons/load-balancer-controller-policy';
import { NvidiaDevicePlugin } from '../constructs/addons/nvidia-device-plugin';
import { buildGpuNodeClass, buildGpuNodePools } from '../constructs/capacity/gpu-node-pools';
import { GpuNodePoolRelease } from '../constructs/capacity/gpu-node-pool-release';
import { KarpenterRelease } from '../constructs/capacity/karpenter-release';
import { KubeProviders } from '../constructs/cluster/kube-providers';
import { KedaRelease } from '../constructs/scaling/keda-release';
import { CapacityOutputs, ClusterOutputs, NetworkOutputs } from './contracts';
import { PlatformStack } from './platform-stack';

export interface ClusterAddonsStackProps {
  /** The validated platform configuration. */
  readonly config: PlatformConfig;
  /** The cluster to install into. */
  readonly cluster: ClusterOutputs;
  /** Karpenter's AWS side (node instance profile, interruption queue). */
  readonly capacity: CapacityOutputs;
  /** The VPC (load balancer controller). */
  readonly network: NetworkOutputs;
  /** GPU node user data (AL2023 MIME multi-part from the models construct), passed through unchanged. */
  readonly nodeUserData: string;
}

export class ClusterAddonsStack extends PlatformStack {
  /** The Karpenter releases. */
  public readonly karpenter: KarpenterRelease;
  /** The GPU EC2NodeClass and NodePools release. */
  public readonly gpuNodePools: GpuNodePoolRelease;
  /** The NVIDIA device plugin release. */
  public readonly nvidiaDevicePlugin: NvidiaDevicePlugin;
  /** The load balancer controller release. */
  public readonly loadBalancerController: LoadBalancerController;
  /** KEDA (autoscaling mode keda). */
  public readonly keda?: KedaRelease;

  constructor(scope: Construct, id: string, props: ClusterAddonsStackProps) {
    super(scope, id, { config: props.config });
    const { config, cluster, capacity, network } = props;
    new KubeProviders(this, 'Kube', { cluster, region: config.region });

    this.karpenter = new KarpenterRelease(this, 'Karpenter', {
      version: config.karpenter.version,
      namespace: config.karpenter.namespace,
      serviceAccount: config.karpenter.serviceAccount,
      clusterName: cluster.clusterName,
      clusterEndpoint: cluster.endpoint,
      interruptionQueueName: capacity.interruptionQueueName,
    });

    this.gpuNodePools = new GpuNodePoolRelease(this, 'GpuNodePools', {
      namespace: config.karpenter.namespace,
      nodeClass: buildGpuNodeClass(config, { instanceProfileName: capacity.gpuNodeInstanceProfileName }),
      nodePools: buildGpuNodePools(config),
      userData: props.nodeUserData,
      dependsOn: [this.karpenter.controller],
    });

    this.nvidiaDevicePlugin = new NvidiaDevicePlugin(this, 'NvidiaDevicePlugin', { version: config.karpenter.nvidiaDevicePluginVersion });
    if (config.karpenter.dcgmExporter.enabled) {
      new DcgmExporter(this, 'DcgmExporter', { version: config.karpenter.dcgmExporter.version });
    }

    this.loadBalancerController = new LoadBalancerController(this, 'LoadBalancerController', {
      version: config.karpenter.loadBalancerControllerVersion,
      namespace: LOAD_BALANCER_CONTROLLER_NAMESPACE,
      serviceAccount: config.karpenter.loadBalancerControllerServiceAccount,
      clusterName: cluster.clusterName,
      region: config.region,
      vpcId: network.vpcId,
      defaultTags: defaultTags(config),
    });

    if (config.app.autoscaling.mode === 'keda') {
      this.keda = new KedaRelease(this, 'Keda', {
        version: config.keda.version,
        namespace: config.keda.namespace,
        operatorServiceAccount: config.keda.operatorServiceAccount,
      });
    }
  }
}
