/**
 * One EKS managed add-on at a pinned version, with optional configuration
 * values and a Pod Identity association. Conflicts resolve to the declared
 * configuration, so a hand edit in the cluster is undone by the next apply.
 */
import { EksAddon } from '@cdktf/provider-aws/lib/eks-addon';
import { ITerraformDependable } from 'cdktf';
import { Construct } from 'constructs';

export interface ManagedAddonProps {
  /** Cluster name (token). */
  readonly clusterName: string;
  /** Add-on name, e.g. `vpc-cni`. */
  readonly addonName: string;
  /** Pinned add-on version, e.g. `v1.23.0-eksbuild.1`. */
  readonly addonVersion: string;
  /** Configuration values (validated by EKS against the add-on's schema). */
  readonly configuration?: Record<string, unknown>;
  /** Service account and role of a Pod Identity association managed with the add-on. */
  readonly podIdentity?: { serviceAccount: string; roleArn: string };
  /** Resources that must exist first (nodes for Deployments, the Pod Identity agent). */
  readonly dependsOn?: ITerraformDependable[];
}

export class ManagedAddon extends Construct {
  /** The add-on. */
  public readonly addon: EksAddon;

  constructor(scope: Construct, id: string, props: ManagedAddonProps) {
    super(scope, id);
    this.addon = new EksAddon(this, 'Addon', {
      clusterName: props.clusterName,
      addonName: props.addonName,
      addonVersion: props.addonVersion,
      configurationValues: props.configuration ? JSON.stringify(props.configuration) : undefined,
      podIdentityAssociation: props.podIdentity ? [{ serviceAccount: props.podIdentity.serviceAccount, roleArn: props.podIdentity.roleArn }] : undefined,
      resolveConflictsOnCreate: 'OVERWRITE',
      resolveConflictsOnUpdate: 'OVERWRITE',
      dependsOn: props.dependsOn,
    });
  }
}
