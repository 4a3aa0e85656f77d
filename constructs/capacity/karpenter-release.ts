/**
 * Karpenter in the cluster: the CRDs (karpenter-crd chart, so CRDs follow
 * version bumps, which Helm never does for a chart's crds/ directory) and the
 * controller (karpenter chart, CRDs skipped), both from
 * oci://public.ecr.aws/karpenter at the pinned version. Two replicas on the
 * system node group with a PodDisruptionBudget; interruption handling on
 * (settings.interruptionQueue) and Spot-to-Spot consolidation enabled.
 */
import { Release } from '@cdktf/provider-helm/lib/release';
import { Construct } from 'constructs';
import { RELEASE_DEFAULTS, systemNodeScheduling } from '../helm/scheduling';

export const KARPENTER_CHART_REPOSITORY = 'oci://public.ecr.aws/karpenter';

export interface KarpenterReleaseProps {
  /** Chart and controller version (pinned). */
  readonly version: string;
  /** Namespace of the controller. */
  readonly namespace: string;
  /** Service account (bound to the controller role by Pod Identity). */
  readonly serviceAccount: string;
  /** EKS cluster name. */
  readonly clusterName: string;
  /** API server endpoint (saves a DescribeCluster call at start-up). */
  readonly clusterEndpoint: string;
  /** SQS queue name of interruption events. */
  readonly interruptionQueueName: string;
}

export class KarpenterRelease extends Construct {
  /** The CRD release. */
  public readonly crds: Release;
  /** The controller release; install anything using Karpenter's CRDs after it. */
  public readonly controller: Release;
  /** Values passed to the controller chart. */
  public readonly values: Record<string, unknown>;

  constructor(scope: Construct, id: string, props: KarpenterReleaseProps) {
    super(scope, id);
    this.crds = new Release(this, 'Crds', {
      ...RELEASE_DEFAULTS,
      name: 'karpenter-crd',
      namespace: props.namespace,
      createNamespace: true,
      repository: KARPENTER_CHART_REPOSITORY,
      chart: 'karpenter-crd',
      version: props.version,
    });

    const scheduling = systemNodeScheduling();
    this.values = {
      replicas: 2,
      podDisruptionBudget: { name: 'karpenter', maxUnavailable: 1 },
      serviceAccount: { create: true, name: props.serviceAccount },
      nodeSelector: scheduling.nodeSelector,
      tolerations: scheduling.tolerations,
      controller: { resources: { requests: { cpu: '500m', memory: '1Gi' }, limits: { memory: '1Gi' } } },
      settings: {
        clusterName: props.clusterName,
        clusterEndpoint: props.clusterEndpoint,
        interruptionQueue: props.interruptionQueueName,
        featureGates: { spotToSpotConsolidation: true },
      },
    };
    this.controller = new Release(this, 'Controller', {
      ...RELEASE_DEFAULTS,
      name: 'karpenter',
      namespace: props.namespace,
      repository: KARPENTER_CHART_REPOSITORY,
      chart: 'karpenter',
      version: props.version,
      skipCrds: true,
      // Token values (cluster name, endpoint, queue) are plain identifiers, safe inside JSON.
      values: [JSON.stringify(this.values)],
      dependsOn: [this.crds],
    });
  }
}
