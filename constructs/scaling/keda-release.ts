/**
 * KEDA in the cluster, from its official chart (https://kedacore.github.io/charts)
 * at the pinned version (chart and operator versions are the same). The
 * operator, metrics API server and admission webhooks run on the system node
 * group; the operator's service account is bound to its IAM role by Pod
 * Identity (capacity stack), so the `aws` pod identity provider of the
 * ComfyUI chart's TriggerAuthentication uses that role. The chart's CRDs are
 * installed with it (KEDA ships them in templates/, so upgrades update them).
 */
import { Release } from '@cdktf/provider-helm/lib/release';
import { ITerraformDependable } from 'cdktf';
import { Construct } from 'constructs';
import { RELEASE_DEFAULTS, systemNodeScheduling } from '../helm/scheduling';

export const KEDA_CHART_REPOSITORY = 'https://kedacore.github.io/charts';

export interface KedaReleaseProps {
  /** Chart and operator version (pinned). */
  readonly version: string;
  /** Namespace (created by the release). */
  readonly namespace: string;
  /** Operator service account (the Pod Identity association names it). */
  readonly operatorServiceAccount: string;
  /** What must exist first. */
  readonly dependsOn?: ITerraformDependable[];
}

export class KedaRelease extends Construct {
  /** The release; install ScaledObjects after it. */
  public readonly release: Release;
  /** Values passed to the chart. */
  public readonly values: Record<string, unknown>;

  constructor(scope: Construct, id: string, props: KedaReleaseProps) {
    super(scope, id);
    const scheduling = systemNodeScheduling();
    this.values = {
      // Two operators (leader election) and two metrics servers: a scale-from-zero must not wait for a restart.
      operator: { replicaCount: 2, name: 'keda-operator' },
      metricsServer: { replicaCount: 2 },
      webhooks: { replicaCount: 2 },
      podDisruptionBudget: { operator: { maxUnavailable: 1 }, metricServer: { maxUnavailable: 1 }, webhooks: { maxUnavailable: 1 } },
      serviceAccount: { operator: { create: true, name: props.operatorServiceAccount } },
      nodeSelector: scheduling.nodeSelector,
      tolerations: scheduling.tolerations,
      resources: {
        operator: { requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '512Mi' } },
        metricServer: { requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '512Mi' } },
        webhooks: { requests: { cpu: '50m', memory: '64Mi' }, limits: { memory: '256Mi' } },
      },
      prometheus: { operator: { enabled: false }, metricServer: { enabled: false } },
    };
    this.release = new Release(this, 'Release', {
      ...RELEASE_DEFAULTS,
      name: 'keda',
      namespace: props.namespace,
      createNamespace: true,
      repository: KEDA_CHART_REPOSITORY,
      chart: 'keda',
      version: props.version,
      values: [JSON.stringify(this.values)],
      dependsOn: props.dependsOn,
    });
  }
}
