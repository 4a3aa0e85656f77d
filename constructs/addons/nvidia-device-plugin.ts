/**
 * NVIDIA's device plugin: advertises nvidia.com/gpu on GPU nodes so the
 * scheduler (and Karpenter) can place GPU pods. Runs only on nodes labelled
 * nvidia.com/gpu.present=true (every GPU NodePool sets it) and tolerates the
 * GPU taint. No node-feature-discovery: the label comes from the NodePool.
 */
import { Release } from '@cdktf/provider-helm/lib/release';
import { Construct } from 'constructs';
import { GPU_NODE_TAINT } from '../../config';
import { NVIDIA_GPU_PRESENT_LABEL } from '../capacity/gpu-node-pools';
import { RELEASE_DEFAULTS } from '../helm/scheduling';

export const NVIDIA_DEVICE_PLUGIN_REPOSITORY = 'https://nvidia.github.io/k8s-device-plugin';

/** Scheduling of NVIDIA daemons: GPU nodes only, GPU taint tolerated. */
export function gpuDaemonScheduling(): { nodeSelector: Record<string, string>; tolerations: Array<Record<string, string>> } {
  return {
    nodeSelector: { [NVIDIA_GPU_PRESENT_LABEL.key]: NVIDIA_GPU_PRESENT_LABEL.value },
    tolerations: [{ key: GPU_NODE_TAINT.key, operator: 'Exists', effect: GPU_NODE_TAINT.effect }],
  };
}

export interface NvidiaDevicePluginProps {
  /** Chart version (pinned). */
  readonly version: string;
}

export class NvidiaDevicePlugin extends Construct {
  /** The release. */
  public readonly release: Release;
  /** Values passed to the chart. */
  public readonly values: Record<string, unknown>;

  constructor(scope: Construct, id: string, props: NvidiaDevicePluginProps) {
    super(scope, id);
    const scheduling = gpuDaemonScheduling();
    this.values = {
      nodeSelector: scheduling.nodeSelector,
      // null deletes the chart's NFD-based default affinity (an empty map would merge into it): the NodePool label decides.
      affinity: null,
      tolerations: scheduling.tolerations,
      gfd: { enabled: false },
      nfd: { enabled: false },
    };
    this.release = new Release(this, 'Release', {
      ...RELEASE_DEFAULTS,
      name: 'nvidia-device-plugin',
      namespace: 'kube-system',
      repository: NVIDIA_DEVICE_PLUGIN_REPOSITORY,
      chart: 'nvidia-device-plugin',
      version: props.version,
      values: [JSON.stringify(this.values)],
      // A DaemonSet on zero GPU nodes is ready at once; do not wait for nodes to appear.
      wait: false,
    });
  }
}
