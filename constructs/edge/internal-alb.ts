/**
 * The Terraform-owned internal Application Load Balancer in front of
 * ComfyUI: its own subnets (nothing else runs there), its own security group (no ingress here:
 * the VPC-origin construct adds the only one), egress only to the VPC on the
 * ComfyUI port, an `ip` target group the chart's TargetGroupBinding fills
 * with pod IPs, and the node security group rule that lets the ALB reach
 * those pods.
 *
 * With `authentication` (edge.auth.mode cognito) the HTTPS listener checks
 * every request before it reaches ComfyUI, in this order:
 *
 * 10. `Authorization: Bearer ...` (scripts): the JWT must be signed by the
 *     user pool, unexpired, an access token and carry the API scope; else 401.
 * 20. `Origin: https://<site>` (the UI's own writes and WebSocket): Cognito
 *     sign-in, then forward. Made by scripts/edge-cognito.sh init.
 * 30. Any other `Origin`: 403. Browsers attach the session cookie to
 *     cross-site requests; ComfyUI has no CSRF protection of its own.
 * 40. Any path: Cognito sign-in (session cookie, else a redirect to the
 *     login page), then forward. Made by scripts/edge-cognito.sh init.
 * Default: 403.
 *
 * Rules 20 and 40 name the browser app client, whose secret Terraform would
 * keep in state, so Terraform never creates them: until the script runs the
 * listener fails closed (only bearer tokens pass). The ALB then needs HTTPS
 * egress to Cognito's token, user-info and JWKS endpoints (public
 * endpoints, reached through the VPC's NAT gateways).
 */
import { Lb } from '@cdktf/provider-aws/lib/lb';
import { LbListener } from '@cdktf/provider-aws/lib/lb-listener';
import { LbListenerRule } from '@cdktf/provider-aws/lib/lb-listener-rule';
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

/**
 * Priorities of the Cognito-mode rules (lower is evaluated first). Terraform
 * makes bearerToken and crossOrigin; scripts/edge-cognito.sh makes sameOrigin
 * and signIn (the same numbers are in the script; a test checks).
 */
export const ALB_RULE_PRIORITY = { bearerToken: 10, sameOrigin: 20, crossOrigin: 30, signIn: 40 } as const;
/** Priority of the out-of-band rule forwarding requests with the origin header (scripts/edge-user.sh uses the same). */
export const ORIGIN_HEADER_RULE_PRIORITY = 1;

/**
 * The Terraform half of Cognito at the ALB: bearer tokens of scripts are
 * verified, other Origins refused, everything else answered 403 until
 * scripts/edge-cognito.sh adds the browser sign-in rules.
 */
export interface AlbCognitoAuthentication {
  /** Token issuer (`https://cognito-idp.<region>.amazonaws.com/<pool id>`). */
  readonly issuer: string;
  /** JWKS endpoint of the issuer. */
  readonly jwksEndpoint: string;
  /** Scope an access token must carry to reach ComfyUI. */
  readonly apiScope: string;
}

export interface InternalAlbProps {
  /** Name prefix (`<name>-<environment>`). */
  readonly namePrefix: string;
  /** VPC of the cluster. */
  readonly vpcId: string;
  /** VPC CIDR: the ALB may only talk to targets inside it. */
  readonly vpcCidr: string;
  /** Load balancer subnets, one per AZ (only the ALB runs there). */
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
  /** Cognito mode (HTTPS only): bearer tokens verified, other Origins refused, 403 by default until scripts/edge-cognito.sh adds the sign-in rules; unset: forward everything. */
  readonly authentication?: AlbCognitoAuthentication;
  /**
   * Header CloudFront's edge function adds with a secret value: the listener
   * answers 403 by default and only a rule created out of band
   * (scripts/edge-user.sh init) forwards requests carrying the value, so the
   * value never enters Terraform state. Unset: forward by default.
   */
  readonly requiredOriginHeader?: string;
}

/** What the listener answers to requests that did not come through CloudFront's edge function. */
export const NOT_FROM_CLOUDFRONT_RESPONSE = { statusCode: '403', contentType: 'text/plain', messageBody: 'Forbidden: not a request from the CloudFront distribution\n' } as const;
/** What the Cognito-mode listener answers to a request no rule matched: before scripts/edge-cognito.sh init, every browser request. */
export const SIGN_IN_NOT_SET_UP_RESPONSE = { statusCode: '403', contentType: 'text/plain', messageBody: 'Forbidden: sign-in is not set up yet (scripts/edge-cognito.sh init)\n' } as const;

export class InternalAlb extends Construct {
  /** The load balancer. */
  public readonly alb: Lb;
  /** The ALB's security group. */
  public readonly securityGroup: SecurityGroup;
  /** The `ip` target group ComfyUI pods register into. */
  public readonly targetGroup: LbTargetGroup;
  /** The single listener. */
  public readonly listener: LbListener;
  /** Authentication rules, in evaluation order (empty without `authentication`). */
  public readonly authenticationRules: LbListenerRule[] = [];

  constructor(scope: Construct, id: string, props: InternalAlbProps) {
    super(scope, id);
    const { listener } = props;
    if (listener.protocol === 'HTTPS' && !listener.certificateArn) {
      throw new Error('edge.alb.https.certificateArn: an HTTPS listener needs a certificate');
    }
    const auth = props.authentication;
    if (auth && listener.protocol !== 'HTTPS') {
      throw new Error('edge.alb.https: Cognito authentication at the ALB needs an HTTPS listener');
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
    if (auth) {
      // Cognito publishes no address ranges or prefix list; HTTPS egress is all the rule can narrow.
      new VpcSecurityGroupEgressRule(this, 'EgressToCognito', {
        securityGroupId: this.securityGroup.id,
        description: 'Cognito token, user-info and JWKS endpoints (HTTPS via the NAT gateways)',
        ipProtocol: 'tcp',
        fromPort: 443,
        toPort: 443,
        cidrIpv4: '0.0.0.0/0',
      });
    }
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

    const forward = (order: number) => ({ type: 'forward', order, targetGroupArn: this.targetGroup.arn });
    if (auth && props.requiredOriginHeader) {
      throw new Error('edge.auth.mode: the origin header comes from the Basic-auth edge function; Cognito authenticates at the ALB instead');
    }
    // Both authenticated modes fail closed: only rules (Terraform's bearer-token rule, the scripts' rules) forward.
    const defaultAction = auth
      ? [{ type: 'fixed-response', fixedResponse: { ...SIGN_IN_NOT_SET_UP_RESPONSE } }]
      : props.requiredOriginHeader
        ? [{ type: 'fixed-response', fixedResponse: { ...NOT_FROM_CLOUDFRONT_RESPONSE } }]
        : [{ type: 'forward', targetGroupArn: this.targetGroup.arn }];

    this.listener = new LbListener(this, 'Listener', {
      loadBalancerArn: this.alb.arn,
      protocol: listener.protocol,
      port: listener.port,
      ...(listener.protocol === 'HTTPS' ? { certificateArn: listener.certificateArn, sslPolicy: ALB_TLS_POLICY } : {}),
      defaultAction,
    });

    if (auth) {
      this.authenticationRules.push(
        new LbListenerRule(this, 'BearerTokenRule', {
          listenerArn: this.listener.arn,
          priority: ALB_RULE_PRIORITY.bearerToken,
          condition: [{ httpHeader: { httpHeaderName: 'Authorization', values: ['Bearer *'] } }],
          action: [
            {
              type: 'jwt-validation',
              order: 1,
              jwtValidation: {
                issuer: auth.issuer,
                jwksEndpoint: auth.jwksEndpoint,
                additionalClaim: [
                  // ID tokens are signed by the same keys; only access tokens with the API scope pass.
                  { name: 'token_use', format: 'single-string', values: ['access'] },
                  { name: 'scope', format: 'space-separated-values', values: [auth.apiScope] },
                ],
              },
            },
            forward(2),
          ],
        }),
        new LbListenerRule(this, 'CrossOriginRule', {
          listenerArn: this.listener.arn,
          priority: ALB_RULE_PRIORITY.crossOrigin,
          condition: [{ httpHeader: { httpHeaderName: 'Origin', values: ['*'] } }],
          action: [{ type: 'fixed-response', fixedResponse: { statusCode: '403', contentType: 'text/plain', messageBody: 'Cross-site request refused\n' } }],
        }),
      );
    }
  }
}
