/**
 * The Karpenter v1 API fields this project sets, as TypeScript types
 * (karpenter.sh/v1 NodePool, karpenter.k8s.aws/v1 EC2NodeClass). They mirror
 * the CRD schemas of the pinned Karpenter version; the CRD validation test
 * checks rendered objects against the real schemas, unknown fields rejected.
 */

/** Kubernetes object metadata, the part set here. */
export interface ObjectMeta {
  /** Object name. */
  readonly name: string;
  /** Labels. */
  readonly labels?: Record<string, string>;
}

/** A node selector requirement (well-known labels). */
export interface NodeSelectorRequirement {
  /** Label key. */
  readonly key: string;
  /** Operator. Gt/Lt take one integer value. */
  readonly operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist' | 'Gt' | 'Lt';
  /** Values. */
  readonly values?: string[];
  /** Minimum distinct values the scheduler must keep (In only). */
  readonly minValues?: number;
}

/** A node taint. */
export interface Taint {
  /** Taint key. */
  readonly key: string;
  /** Taint value. */
  readonly value?: string;
  /** Effect. */
  readonly effect: 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute';
}

/** A disruption budget. */
export interface DisruptionBudget {
  /** Node count or percentage. */
  readonly nodes: string;
  /** Reasons the budget applies to; all when unset. */
  readonly reasons?: Array<'Underutilized' | 'Empty' | 'Drifted'>;
  /** Cron schedule the budget is active from. */
  readonly schedule?: string;
  /** How long the budget is active after each schedule hit. */
  readonly duration?: string;
}

/** karpenter.sh/v1 NodePool spec. */
export interface NodePoolSpec {
  /** Template of the NodeClaims the pool creates. */
  readonly template: {
    readonly metadata?: { readonly labels?: Record<string, string>; readonly annotations?: Record<string, string> };
    readonly spec: {
      readonly nodeClassRef: { readonly group: string; readonly kind: string; readonly name: string };
      readonly requirements: NodeSelectorRequirement[];
      readonly taints?: Taint[];
      readonly startupTaints?: Taint[];
      readonly expireAfter?: string;
      readonly terminationGracePeriod?: string;
    };
  };
  /** Voluntary disruption. */
  readonly disruption?: {
    readonly consolidationPolicy?: 'WhenEmpty' | 'WhenEmptyOrUnderutilized';
    readonly consolidateAfter: string;
    readonly budgets?: DisruptionBudget[];
  };
  /** Resource ceilings of the pool. */
  readonly limits?: Record<string, number | string>;
  /** Priority among pools (higher first). */
  readonly weight?: number;
}

/** karpenter.sh/v1 NodePool. */
export interface NodePool {
  readonly apiVersion: 'karpenter.sh/v1';
  readonly kind: 'NodePool';
  readonly metadata: ObjectMeta;
  readonly spec: NodePoolSpec;
}

/** A selector term by tags. */
export interface TagSelectorTerm {
  /** Tags the resource must carry. */
  readonly tags: Record<string, string>;
}

/** An EBS block device mapping. */
export interface BlockDeviceMapping {
  /** Device name. */
  readonly deviceName: string;
  /** Whether this is the root volume. */
  readonly rootVolume?: boolean;
  /** EBS settings. */
  readonly ebs: {
    readonly volumeSize: string;
    readonly volumeType: 'gp3' | 'gp2' | 'io1' | 'io2' | 'st1' | 'sc1' | 'standard';
    readonly encrypted: boolean;
    readonly deleteOnTermination: boolean;
    readonly kmsKeyID?: string;
    readonly iops?: number;
    readonly throughput?: number;
  };
}

/** karpenter.k8s.aws/v1 EC2NodeClass spec (userData is added by the chart from base64). */
export interface EC2NodeClassSpec {
  /** AMI selection: one pinned alias. */
  readonly amiSelectorTerms: Array<{ readonly alias: string }>;
  /** Existing instance profile (exclusive with role). */
  readonly instanceProfile?: string;
  /** Role Karpenter builds a profile for (exclusive with instanceProfile). */
  readonly role?: string;
  /** Subnets to launch in. */
  readonly subnetSelectorTerms: TagSelectorTerm[];
  /** Security groups of the nodes. */
  readonly securityGroupSelectorTerms: TagSelectorTerm[];
  /** Instance metadata service options. */
  readonly metadataOptions: {
    readonly httpEndpoint: 'enabled' | 'disabled';
    readonly httpProtocolIPv6: 'enabled' | 'disabled';
    readonly httpPutResponseHopLimit: number;
    readonly httpTokens: 'required' | 'optional';
  };
  /** EBS volumes. */
  readonly blockDeviceMappings: BlockDeviceMapping[];
  /** What to do with instance store volumes. */
  readonly instanceStorePolicy?: 'RAID0';
  /** Tags on instances, volumes and launch templates. */
  readonly tags?: Record<string, string>;
  /** CloudWatch detailed monitoring. */
  readonly detailedMonitoring?: boolean;
}

/** karpenter.k8s.aws/v1 EC2NodeClass. */
export interface EC2NodeClass {
  readonly apiVersion: 'karpenter.k8s.aws/v1';
  readonly kind: 'EC2NodeClass';
  readonly metadata: ObjectMeta;
  readonly spec: EC2NodeClassSpec;
}
