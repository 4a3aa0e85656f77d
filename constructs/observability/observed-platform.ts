/**
 * What the observability constructs watch: the names of resources other
 * stacks create, passed in as typed values (stack outputs), never looked up.
 * The same object, resolved, is the `status_sources` output that
 * `comfy status --cluster` reads.
 */

/** Edge authentication modes (config edge.auth.mode). */
export type EdgeAuthMode = 'basic' | 'cognito' | 'none';

/** The model-sync path (model-sync stack). */
export interface ObservedModelSync {
  /** Queue receiving the models bucket's notifications. */
  readonly queueName: string;
  /** Its dead-letter queue. */
  readonly deadLetterQueueName: string;
  /** The model-sync Lambda function. */
  readonly functionName: string;
  /** EventBridge rule counting failed node commands. */
  readonly nodeFailureRuleName: string;
}

/** Karpenter's interruption path (capacity stack). */
export interface ObservedInterruptions {
  /** Interruption queue Karpenter reads. */
  readonly queueName: string;
  /** Rule forwarding Spot two-minute interruption warnings. */
  readonly spotRuleName: string;
  /** Rule forwarding rebalance recommendations. */
  readonly rebalanceRuleName: string;
  /** Rule forwarding instance state changes. */
  readonly stateChangeRuleName: string;
  /** Rule forwarding AWS Health scheduled changes. */
  readonly scheduledChangeRuleName: string;
}

/** The edge (edge stack). */
export interface ObservedEdge {
  /** CloudFront distribution id (metrics in us-east-1, Region=Global). */
  readonly distributionId: string;
  /** ALB ARN suffix (`app/<name>/<id>`, the LoadBalancer dimension). */
  readonly loadBalancerArnSuffix: string;
  /** Target group ARN suffix (the TargetGroup dimension). */
  readonly targetGroupArnSuffix: string;
  /** Authentication mode at the edge. */
  readonly authMode: EdgeAuthMode;
  /** Viewer-request CloudFront Function checking Basic auth (mode basic only). */
  readonly authFunctionName?: string;
}

/** The batch jobs path (jobs stack), once it exists. */
export interface ObservedJobs {
  /** Jobs queue. */
  readonly queueName: string;
  /** Its dead-letter queue. */
  readonly deadLetterQueueName: string;
}

/** Everything the dashboard, the alarms and the status command read. */
export interface ObservedPlatform {
  /** EKS cluster name (the ClusterName dimension of every custom metric). */
  readonly clusterName: string;
  /** Deployment region (everything but CloudFront). */
  readonly region: string;
  readonly modelSync: ObservedModelSync;
  readonly interruptions: ObservedInterruptions;
  readonly edge: ObservedEdge;
  /** The capacity publisher Lambda (observability stack). */
  readonly capacityPublisherFunctionName: string;
  /** CloudFront additional metrics (OriginLatency, 401/403/5xx by code) are on. */
  readonly cloudFrontAdditionalMetrics: boolean;
  /** The jobs path; absent until the jobs stack is wired. */
  readonly jobs?: ObservedJobs;
}

/** CloudFront publishes its metrics only in us-east-1. */
export const CLOUDFRONT_METRICS_REGION = 'us-east-1';
