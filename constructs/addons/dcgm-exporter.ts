/**
 * NVIDIA DCGM exporter (optional, karpenter.dcgmExporter.enabled): GPU
 * utilisation, memory and temperature metrics on :9400 of every GPU node.
 * The ServiceMonitor is off, so it installs without the Prometheus operator.
 */
import { Release } from '@cdktf/provider-helm/lib/release';
import { Construct } from 'constructs';
import { RELEASE_DEFAULTS } from '../helm/scheduling';
import { gpuDaemonScheduling } from './nvidia-device-plugin';

export const DCGM_EXPORTER_REPOSITORY = 'https://nvidia.github.io/dcgm-exporter/helm-charts';

export interface DcgmExporterProps {
  /** Chart version (pinned). */
  readonly version: string;
}

export class DcgmExporter extends Construct {
  /** The release. */
  public readonly release: Release;

  constructor(scope: Construct, id: string, props: DcgmExporterProps) {
    super(scope, id);
    const scheduling = gpuDaemonScheduling();
    this.release = new Release(this, 'Release', {
      ...RELEASE_DEFAULTS,
      name: 'dcgm-exporter',
      namespace: 'kube-system',
      repository: DCGM_EXPORTER_REPOSITORY,
      chart: 'dcgm-exporter',
      version: props.version,
      values: [JSON.stringify({ ...scheduling, serviceMonitor: { enabled: false } })],
      wait: false,
    });
  }
}
