/**
 * The AWS Load Balancer Controller. The platform's ALB and target group are
 * Terraform-owned; the controller's job is the TargetGroupBinding the ComfyUI
 * chart creates (registering pod IPs). Two replicas on system nodes, its
 * service account bound to its role by Pod Identity (capacity stack), and
 * the Service mutator webhook off so it never takes over other Services.
 */
import { Release } from '@cdktf/provider-helm/lib/release';
import { Construct } from 'constructs';
import { RELEASE_DEFAULTS, systemNodeScheduling } from '../helm/scheduling';

export const LOAD_BALANCER_CONTROLLER_REPOSITORY = 'https://aws.github.io/eks-charts';

export interface LoadBalancerControllerProps {
  /** Chart version (pinned). */
  readonly version: string;
  /** Namespace (the Pod Identity association names it). */
  readonly namespace: string;
  /** Service account (the Pod Identity association names it). */
  readonly serviceAccount: string;
  /** EKS cluster name. */
  readonly clusterName: string;
  /** Region. */
  readonly region: string;
  /** VPC id (no IMDS lookup from the pod). */
  readonly vpcId: string;
  /** Tags on AWS resources the controller creates. */
  readonly defaultTags: Record<string, string>;
}

export class LoadBalancerController extends Construct {
  /** The release. */
  public readonly release: Release;
  /** Values passed to the chart. */
  public readonly values: Record<string, unknown>;

  constructor(scope: Construct, id: string, props: LoadBalancerControllerProps) {
    super(scope, id);
    const scheduling = systemNodeScheduling();
    this.values = {
      clusterName: props.clusterName,
      region: props.region,
      vpcId: props.vpcId,
      replicaCount: 2,
      podDisruptionBudget: { maxUnavailable: 1 },
      serviceAccount: { create: true, name: props.serviceAccount },
      nodeSelector: scheduling.nodeSelector,
      tolerations: scheduling.tolerations,
      enableServiceMutatorWebhook: false,
      defaultTags: props.defaultTags,
    };
    this.release = new Release(this, 'Release', {
      ...RELEASE_DEFAULTS,
      name: 'aws-load-balancer-controller',
      namespace: props.namespace,
      repository: LOAD_BALANCER_CONTROLLER_REPOSITORY,
      chart: 'aws-load-balancer-controller',
      version: props.version,
      values: [JSON.stringify(this.values)],
    });
  }
}
