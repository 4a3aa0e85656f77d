/**
 * Configures the kubernetes and helm providers of an in-cluster stack from the
 * cluster stack's outputs. Credentials come from `aws eks get-token` at plan
 * and apply time (exec plugin), so nothing long-lived lands in state, and
 * no AWS-only stack ever configures these providers.
 */
import { HelmProvider } from '@cdktf/provider-helm/lib/provider';
import { KubernetesProvider } from '@cdktf/provider-kubernetes/lib/provider';
import { Fn } from 'cdktf';
import { Construct } from 'constructs';
import { ClusterOutputs } from '../../stacks/contracts';

export interface KubeProvidersProps {
  /** The cluster to talk to. */
  readonly cluster: ClusterOutputs;
  /** Region of the cluster (for `aws eks get-token`). */
  readonly region: string;
}

export class KubeProviders extends Construct {
  /** The kubernetes provider. */
  public readonly kubernetes: KubernetesProvider;
  /** The helm provider. */
  public readonly helm: HelmProvider;

  constructor(scope: Construct, id: string, props: KubeProvidersProps) {
    super(scope, id);
    const exec = {
      apiVersion: 'client.authentication.k8s.io/v1beta1',
      command: 'aws',
      args: ['eks', 'get-token', '--cluster-name', props.cluster.clusterName, '--region', props.region, '--output', 'json'],
    };
    const caCertificate = Fn.base64decode(props.cluster.certificateAuthorityData);
    this.kubernetes = new KubernetesProvider(this, 'kubernetes', {
      host: props.cluster.endpoint,
      clusterCaCertificate: caCertificate,
      exec: [exec],
    });
    this.helm = new HelmProvider(this, 'helm', {
      kubernetes: { host: props.cluster.endpoint, clusterCaCertificate: caCertificate, exec },
    });
  }
}
