/**
 * The Terraform-owned internal Application Load Balancer in front of
 * ComfyUI: private subnets only, its own security group (no ingress here:
 * the VPC-origin construct adds the only one), egress only to the VPC on the
 * ComfyUI port, an `ip` target group the chart's TargetGroupBinding fills
 * with pod IPs, and the node security group rule that lets the ALB reach
 * those pods.
 */
import { Lb } from '@cdktf/provider-aws/lib/lb';
import { LbListener } from '@cdktf/provider-aws/lib/lb-listener';
import { LbTargetGroup } from '@cdktf/provider-aws/lib/lb-target-group';
import { SecurityGroup } from '@cdktf/provider-aws/lib/security-group';
import { VpcSecurityGroupEgressRule } from '@cdktf/provider-aws/lib/vpc-security-group-egress-rule';
import { VpcSecurityGroupIngressRule } from '@cdktf/provider-aws/lib/vpc-security-group-ingress-rule';
import { ITerraformDependable } from 'cdktf';
import { Construct } from 'constructs';
import { boundedName } from './names';

/** TLS policy of the HTTPS listener (TLS 1.3 and 1.2 only). */
export const ALB_TLS_POLICY = 'ELBSecurityPolicy-TLS13-1-2-2021-06';

/** Where the listener is reached and how. */
export interface AlbListenerSpec {
  /** `HTTP` on 80 inside the VPC, or `HTTPS` on 443 with a regional certificate. */
  readonly protocol: 'HTTP' | 'HTTPS';
  /** Listener port. */
  readonly port: number;
  /** Regional ACM certificate; required for HTTPS. */
  readonly certificateArn?: string;
}

export interface InternalAlbProps {
  /** Name prefix (`<name>-<environment>`). */
  readonly namePrefix: string;
  /** VPC of the cluster. */
  readonly vpcId: string;
  /** VPC CIDR: the ALB may only talk to targets inside it. */
  readonly vpcCidr: string;
  /** Private subnets, one per AZ. */
  readonly subnetIds: string[];
  /** Security group of the nodes whose pods register as targets. */
  readonly nodeSecurityGroupId: string;
  /** ComfyUI container port (target group port). */
  readonly targetPort: number;
  /** Listener protocol, port and certificate. */
  readonly listener: AlbListenerSpec;
  /** Health check path on ComfyUI (expects 200). */
  readonly healthCheckPath: string;
  /** Idle timeout in seconds (WebSockets live as long as they are not idle for this long). */
  readonly idleTimeoutSeconds: number;
  /** Seconds a deregistering target keeps its connections. */
  readonly deregistrationDelaySeconds: number;
  /** Deletion protection. */
  readonly deletionProtection: boolean;
  /** Bucket and key prefix for access logs. */
  readonly accessLogs: { readonly bucket: string; readonly prefix: string };
  /** Resources the ALB must wait for (the log bucket policy: ELB checks write access on create). */
  readonly dependsOn?: ITerraformDependable[];
}

export class InternalAlb extends Construct {
  /** The load balancer. */
  public readonly alb: Lb;
  /** The ALB's security group. */
  public readonly securityGroup: SecurityGroup;
  /** The `ip` target group ComfyUI pods register into. */
  public readonly targetGroup: LbTargetGroup;
  /** The single listener. */
  public readonly listener: LbListener;

  constructor(scope: Construct, id: string, props: InternalAlbProps) {
    super(scope, id);
    const { listener } = props;
    if (listener.protocol === 'HTTPS' && !listener.certificateArn) {
      throw new Error('edge.alb.https.certificateArn: an HTTPS listener needs a certificate');
    }

    this.securityGroup = new SecurityGroup(this, 'SecurityGroup', {
      name: `${props.namePrefix}-edge-alb`,
      description: 'Internal ComfyUI ALB: ingress only from CloudFront VPC origins, egress only to pods',
      vpcId: props.vpcId,
      tags: { Name: `${props.namePrefix}-edge-alb` },
    });
    new VpcSecurityGroupEgressRule(this, 'EgressToPods', {
      securityGroupId: this.securityGroup.id,
      description: 'ComfyUI pods (targets and health checks)',
      ipProtocol: 'tcp',
      fromPort: props.targetPort,
      toPort: props.targetPort,
      cidrIpv4: props.vpcCidr,
    });
    new VpcSecurityGroupIngressRule(this, 'NodesFromAlb', {
      securityGroupId: props.nodeSecurityGroupId,
      description: 'ComfyUI pods from the internal edge ALB',
      ipProtocol: 'tcp',
      fromPort: props.targetPort,
      toPort: props.targetPort,
      referencedSecurityGroupId: this.securityGroup.id,
    });

    this.alb = new Lb(this, 'LoadBalancer', {
      name: boundedName(props.namePrefix, 'edge', 32),
      internal: true,
      loadBalancerType: 'application',
      securityGroups: [this.securityGroup.id],
      subnets: props.subnetIds,
      idleTimeout: props.idleTimeoutSeconds,
      dropInvalidHeaderFields: true,
      enableDeletionProtection: props.deletionProtection,
      accessLogs: { bucket: props.accessLogs.bucket, prefix: props.accessLogs.prefix, enabled: true },
      dependsOn: props.dependsOn,
    });

    this.targetGroup = new LbTargetGroup(this, 'TargetGroup', {
      name: boundedName(props.namePrefix, 'comfyui', 32),
      targetType: 'ip',
      protocol: 'HTTP',
      protocolVersion: 'HTTP1',
      port: props.targetPort,
      vpcId: props.vpcId,
      deregistrationDelay: String(props.deregistrationDelaySeconds),
      // New requests go to the pod with the fewest in flight; stickiness keeps a browser on its pod.
      loadBalancingAlgorithmType: 'least_outstanding_requests',
      healthCheck: {
        enabled: true,
        protocol: 'HTTP',
        port: 'traffic-port',
        path: props.healthCheckPath,
        matcher: '200',
        interval: 15,
        timeout: 5,
        healthyThreshold: 2,
        unhealthyThreshold: 3,
      },
      // A browser's queue, previews and WebSocket belong to one ComfyUI process.
      stickiness: { type: 'lb_cookie', enabled: true, cookieDuration: 86400 },
    });

    this.listener = new LbListener(this, 'Listener', {
      loadBalancerArn: this.alb.arn,
      protocol: listener.protocol,
      port: listener.port,
      ...(listener.protocol === 'HTTPS' ? { certificateArn: listener.certificateArn, sslPolicy: ALB_TLS_POLICY } : {}),
      defaultAction: [{ type: 'forward', targetGroupArn: this.targetGroup.arn }],
    });
  }
}
