/**
 * Installs charts/comfyui with the helm provider: its namespace (Pod Security
 * audit at `restricted`; enforcement would refuse the models hostPath) and
 * the release, from the chart directory copied into the stack's assets.
 *
 * Ownership (config app.releaseOwner):
 * - `helm` (default): Terraform installs the release once and then ignores it
 *   (lifecycle ignore_changes = all). App changes (image tag, replicas, flags,
 *   chart changes) ship with `make values` + `helm upgrade`, and no apply ever
 *   reverts them. Destroying the stack uninstalls the release.
 * - `terraform`: every apply re-applies chart and values; `helm upgrade`
 *   changes are reverted by the next apply.
 */
import { Release } from '@cdktf/provider-helm/lib/release';
import { NamespaceV1 } from '@cdktf/provider-kubernetes/lib/namespace-v1';
import { AssetType, Fn, ITerraformDependable, TerraformAsset } from 'cdktf';
import { Construct } from 'constructs';
import { KubeProviders } from '../cluster/kube-providers';

export interface ComfyuiReleaseProps {
  /** Providers of the target cluster. */
  readonly providers: KubeProviders;
  /** Absolute path of the chart directory (charts/comfyui). */
  readonly chartDir: string;
  /** Namespace (created here). */
  readonly namespace: string;
  /** Helm release name. */
  readonly releaseName: string;
  /** Values owned by the platform (comfyuiPlatformValues). */
  readonly platformValues: Record<string, unknown>;
  /** Initial values helm owns afterwards (comfyuiAppValues). */
  readonly appValues: Record<string, unknown>;
  /** Who owns the release after the first install. */
  readonly owner: 'helm' | 'terraform';
  /** What must exist before pods start (the Pod Identity association, so the S3 mounts get credentials). */
  readonly dependsOn?: ITerraformDependable[];
}

export class ComfyuiRelease extends Construct {
  /** The helm release. */
  public readonly release: Release;
  /** The namespace resource. */
  public readonly namespace: NamespaceV1;

  constructor(scope: Construct, id: string, props: ComfyuiReleaseProps) {
    super(scope, id);

    this.namespace = new NamespaceV1(this, 'Namespace', {
      provider: props.providers.kubernetes,
      metadata: {
        name: props.namespace,
        labels: {
          'app.kubernetes.io/part-of': 'comfyui-eks',
          'pod-security.kubernetes.io/audit': 'restricted',
          // The load balancer controller adds a readiness gate to pods behind a TargetGroupBinding, so a
          // rolling update waits until the new pod is healthy in the target group before removing the old one.
          'elbv2.k8s.aws/pod-readiness-gate-inject': 'enabled',
        },
      },
    });

    const chart = new TerraformAsset(this, 'Chart', { path: props.chartDir, type: AssetType.DIRECTORY });

    this.release = new Release(this, 'Release', {
      provider: props.providers.helm,
      name: props.releaseName,
      namespace: this.namespace.metadata.name,
      chart: `./${chart.path}`,
      createNamespace: false,
      // Later values win: the platform's values are applied over the initial app values.
      values: [Fn.jsonencode(props.appValues), Fn.jsonencode(props.platformValues)],
      // Pods wait for a GPU node and its first model sync (minutes to an hour); the apply does not.
      wait: false,
      atomic: false,
      cleanupOnFail: true,
      maxHistory: 10,
      lifecycle: props.owner === 'helm' ? { ignoreChanges: 'all' } : undefined,
      dependsOn: props.dependsOn,
    });
  }
}
