/**
 * The GPU EC2NodeClass and NodePools, installed with the local chart
 * charts/karpenter-gpu-pool after Karpenter. helm_release needs no CRD at
 * plan time (kubernetes_manifest would), so one `cdktf deploy` works on a
 * fresh cluster; at apply time the CRDs exist because the release depends on
 * the Karpenter releases. On destroy it goes first and waits, so Karpenter
 * is still running to drain and terminate the GPU nodes.
 */
import { Release } from '@cdktf/provider-helm/lib/release';
import { ITerraformDependable } from 'cdktf';
import { Construct } from 'constructs';
import { LocalChart } from '../helm/local-chart';
import { RELEASE_DEFAULTS } from '../helm/scheduling';
import { gpuPoolChartValues, GpuPoolChartValues } from './gpu-node-pools';
import { EC2NodeClass, NodePool } from './karpenter-v1-types';

export interface GpuNodePoolReleaseProps {
  /** Namespace of the Helm release record (the objects are cluster-scoped). */
  readonly namespace: string;
  /** The EC2NodeClass (without userData). */
  readonly nodeClass: EC2NodeClass;
  /** The NodePools. */
  readonly nodePools: NodePool[];
  /** Node user data (AL2023 MIME multi-part), opaque; a plain string or a token. */
  readonly userData: string;
  /** What must exist first (the Karpenter releases). */
  readonly dependsOn: ITerraformDependable[];
}

export class GpuNodePoolRelease extends Construct {
  /** The release. */
  public readonly release: Release;
  /** Values passed to the chart. */
  public readonly values: GpuPoolChartValues;

  constructor(scope: Construct, id: string, props: GpuNodePoolReleaseProps) {
    super(scope, id);
    // User data travels as a plain string inside the JSON values document: JSON.stringify escapes its
    // quotes and newlines, and Terraform only interpolates the bucket-name reference in it (the models
    // code escapes every other `${`). A Terraform function call (base64encode) would instead need
    // HCL-escaping of the whole MIME text, which cdktf refuses for text with double quotes.
    this.values = gpuPoolChartValues(props.nodeClass, props.nodePools, props.userData);
    const chart = new LocalChart(this, 'Chart', { name: 'karpenter-gpu-pool' });
    this.release = new Release(this, 'Release', {
      ...RELEASE_DEFAULTS,
      name: 'karpenter-gpu-pool',
      namespace: props.namespace,
      chart: chart.path,
      values: [JSON.stringify(this.values)],
      dependsOn: props.dependsOn,
    });
  }
}
