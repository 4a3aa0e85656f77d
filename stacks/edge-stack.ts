/**
 * Edge stack: how users reach ComfyUI. A Terraform-owned internal ALB with
 * the `ip` target group the chart's TargetGroupBinding fills, a CloudFront
 * VPC origin to it (no public load balancer, no synth-time lookups), the
 * distribution, authentication (on by default: Basic auth in a CloudFront
 * Function, or a Cognito user pool checked by the ALB), optional WAF and
 * custom domain, and the bucket both write access logs to.
 */
import { TerraformOutput } from 'cdktf';
import { Construct } from 'constructs';
import { BasicAuth, ORIGIN_VERIFY_HEADER } from '../constructs/edge/basic-auth';
import { API_SCOPE, CognitoAuth } from '../constructs/edge/cognito-auth';
import { EdgeDistribution } from '../constructs/edge/edge-distribution';
import { ALB_LOG_PREFIX, CLOUDFRONT_LOG_PREFIX, EdgeLogBucket } from '../constructs/edge/edge-log-bucket';
import { EdgeWaf, RATE_LIMIT_ACL_RULE_GROUPS } from '../constructs/edge/edge-waf';
import { InternalAlb } from '../constructs/edge/internal-alb';
import { AlbVpcOrigin } from '../constructs/edge/vpc-origin';
import { WakeEndpoint } from '../constructs/edge/wake-endpoint';
import { WakeQueue } from '../constructs/scaling/wake-queue';
import { ClusterOutputs, EdgeMetricSources, EdgeOutputs, NetworkOutputs, WakeQueueRef } from './contracts';
import { PlatformStack, PlatformStackProps } from './platform-stack';

export interface EdgeStackProps extends PlatformStackProps {
  /** VPC, subnets and CIDR from the network stack. */
  readonly network: NetworkOutputs;
  /** Node security group (pods register by IP) from the cluster stack. */
  readonly cluster: ClusterOutputs;
}

export class EdgeStack extends PlatformStack {
  /** Typed outputs for the app stack (TargetGroupBinding, public URL). */
  public readonly outputs: EdgeOutputs;
  /** What the observability stack watches (distribution, ALB, target group, auth function). */
  public readonly metricSources: EdgeMetricSources;

  constructor(scope: Construct, id: string, props: EdgeStackProps) {
    super(scope, id, props);
    const { config, network, cluster } = props;
    const edge = config.edge;
    const account = this.accountId;
    const https = edge.alb.https;

    const logs = new EdgeLogBucket(this, 'Logs', {
      // "edgelog" is as long as "outputs", the longest purpose the config's name-length check allows for.
      bucketName: `${this.prefix}-edgelog-${account}-${config.region}`,
      accountId: account,
      partition: this.partition,
      region: config.region,
      expireDays: edge.logExpireDays,
    });

    const authMode = edge.auth.mode;
    if (authMode !== 'basic' && authMode !== 'cognito' && !(authMode === 'none' && edge.auth.acknowledgeUnauthenticated)) {
      // The config schema rejects this already; a stack built from unvalidated input must not fail open.
      throw new Error(`edge.auth.mode: ${authMode} is not available; use basic or cognito, or none with acknowledgeUnauthenticated`);
    }

    const cognito = authMode === 'cognito' ? this.cognitoAuth(props, account) : undefined;

    const alb = new InternalAlb(this, 'Alb', {
      namePrefix: this.prefix,
      vpcId: network.vpcId,
      vpcCidr: network.vpcCidr,
      subnetIds: network.albSubnetIds,
      nodeSecurityGroupId: cluster.nodeSecurityGroupId,
      targetPort: config.app.port,
      listener: https ? { protocol: 'HTTPS', port: 443, certificateArn: https.certificateArn } : { protocol: 'HTTP', port: 80 },
      healthCheckPath: edge.alb.healthCheckPath,
      idleTimeoutSeconds: edge.alb.idleTimeoutSeconds,
      deregistrationDelaySeconds: edge.alb.deregistrationDelaySeconds,
      deletionProtection: edge.alb.deletionProtection,
      accessLogs: { bucket: logs.bucket.bucketName, prefix: ALB_LOG_PREFIX },
      dependsOn: [logs.bucket.policy],
      // Cognito mode: browser sign-in rules come from scripts/edge-cognito.sh init (they name an app client, whose secret Terraform would keep).
      authentication: cognito && { issuer: cognito.auth.issuer, jwksEndpoint: cognito.auth.jwksEndpoint, apiScope: API_SCOPE },
      // Basic mode: only requests with the edge function's secret header reach ComfyUI (scripts/edge-user.sh init).
      requiredOriginHeader: authMode === 'basic' ? ORIGIN_VERIFY_HEADER : undefined,
    });

    const origin = new AlbVpcOrigin(this, 'Origin', {
      name: `${this.prefix}-alb`,
      albArn: alb.alb.arn,
      albSecurityGroupId: alb.securityGroup.id,
      vpcId: network.vpcId,
      protocol: https ? 'https' : 'http',
      allowFrom: edge.alb.allowFrom,
    });

    const auth =
      authMode === 'basic'
        ? new BasicAuth(this, 'Auth', { namePrefix: this.prefix, realm: edge.auth.realm, sessionHours: edge.auth.sessionHours })
        : undefined;

    // Basic auth gets a web ACL for its rate limit even without the rest of the WAF (docs/security.md).
    const rateLimit = edge.waf.rateLimit.enabled && (edge.waf.enabled || authMode === 'basic') ? edge.waf.rateLimit : undefined;
    const waf =
      edge.waf.enabled || rateLimit
        ? new EdgeWaf(this, 'Waf', {
            namePrefix: this.prefix,
            allowCidrs: edge.waf.enabled ? edge.waf.allowCidrs : [],
            // Without the full WAF, the rate-limit ACL still carries the Known Bad Inputs group (1 USD a month).
            managedRuleGroups: edge.waf.enabled ? edge.waf.managedRuleGroups : [...RATE_LIMIT_ACL_RULE_GROUPS],
            rateLimit,
          })
        : undefined;

    // Elastic serving (autoscaling mode keda): the wake queue belongs to the edge that signals it; the
    // capacity stack grants KEDA's role read access to it, the app passes its URL to the ScaledObject.
    const wakeQueue = config.app.autoscaling.mode === 'keda' ? new WakeQueue(this, 'WakeQueue', { queueName: `${this.prefix}-wake` }) : undefined;
    const wakeQueueRef: WakeQueueRef | undefined = wakeQueue && { url: wakeQueue.queue.url, arn: wakeQueue.queue.arn };
    const wake = wakeQueueRef
      ? new WakeEndpoint(this, 'Wake', { functionName: `${this.prefix}-wake`, accountId: account, queue: wakeQueueRef, clusterName: cluster.clusterName, logRetentionDays: 30 })
      : undefined;

    const cdn = new EdgeDistribution(this, 'Cdn', {
      namePrefix: this.prefix,
      vpcOriginId: origin.vpcOrigin.id,
      originDomainName: https ? https.originDomainName : alb.alb.dnsName,
      originReadTimeoutSeconds: edge.cloudfront.originReadTimeoutSeconds,
      originKeepaliveTimeoutSeconds: edge.cloudfront.originKeepaliveTimeoutSeconds,
      viewerRequestFunctionArn: auth?.function.arn,
      originVerifyHeader: auth ? ORIGIN_VERIFY_HEADER : undefined,
      originAuthenticates: cognito !== undefined,
      webAclArn: waf?.webAcl.arn,
      // The allow-list holds IPv4 blocks only: an IPv6 viewer would match none of them and be blocked.
      ipv6Enabled: !(edge.waf.enabled && edge.waf.allowCidrs.length > 0),
      customDomain: edge.customDomain,
      priceClass: edge.priceClass,
      logDestinationArn: `${logs.bucket.bucketArn}/${CLOUDFRONT_LOG_PREFIX}`,
      logDependsOn: [logs.bucket.policy],
      wake: wake?.distributionParts,
    });
    wake?.allowDistribution(cdn.distribution.arn);

    this.outputs = {
      targetGroupArn: alb.targetGroup.arn,
      albSecurityGroupId: alb.securityGroup.id,
      publicHostname: cdn.publicHostname,
      targetGroupMetricDimensions: { loadBalancer: alb.alb.arnSuffix, targetGroup: alb.targetGroup.arnSuffix },
      wakeQueue: wakeQueueRef,
    };
    this.metricSources = {
      distributionId: cdn.distribution.id,
      loadBalancerArnSuffix: alb.alb.arnSuffix,
      targetGroupArnSuffix: alb.targetGroup.arnSuffix,
      authFunctionName: auth?.function.name,
    };

    const urlDescription = cognito ? 'Open ComfyUI here (Cognito sign-in; scripts send a Cognito bearer token)' : 'Open ComfyUI here (Basic auth unless edge.auth.mode is none)';
    new TerraformOutput(this, 'comfyui_url', { value: `https://${cdn.publicHostname}`, description: urlDescription });
    new TerraformOutput(this, 'distribution_domain_name', { value: cdn.distribution.domainName, description: 'CloudFront name; point a custom domain CNAME/alias here' });
    new TerraformOutput(this, 'distribution_id', { value: cdn.distribution.id, description: 'CloudFront distribution id (invalidations, logs)' });
    new TerraformOutput(this, 'target_group_arn', { value: alb.targetGroup.arn, description: 'Target group the chart TargetGroupBinding registers pods into' });
    new TerraformOutput(this, 'alb_dns_name', { value: alb.alb.dnsName, description: 'Internal ALB (reachable only from CloudFront VPC origins)' });
    new TerraformOutput(this, 'log_bucket', { value: logs.bucket.bucketName, description: 'ALB (alb/) and CloudFront (cloudfront/) access logs' });
    if (auth) {
      new TerraformOutput(this, 'auth_key_value_store_name', { value: auth.store.name, description: 'KeyValueStore of Basic-auth users and edge secrets (scripts/edge-user.sh init|put|delete|rotate-*)' });
      new TerraformOutput(this, 'auth_key_value_store_arn', { value: auth.store.arn, description: 'KeyValueStore ARN (aws cloudfront-keyvaluestore ...)' });
      new TerraformOutput(this, 'alb_listener_arn', { value: alb.listener.arn, description: 'ALB listener (scripts/edge-user.sh init|rotate-origin add the origin-header rule to it)' });
    }
    if (cognito) {
      const { auth: pool } = cognito;
      const loginHost = `${pool.domain.domain}.auth.${config.region}.amazoncognito.com`;
      new TerraformOutput(this, 'cognito_user_pool_id', { value: pool.userPool.id, description: 'User pool (aws cognito-idp admin-create-user --user-pool-id ...)' });
      new TerraformOutput(this, 'cognito_login_url', { value: `https://${loginHost}`, description: 'Cognito managed login domain' });
      new TerraformOutput(this, 'cognito_token_url', { value: `https://${loginHost}/oauth2/token`, description: 'Token endpoint API clients request access tokens from (client credentials)' });
      new TerraformOutput(this, 'cognito_api_scope', { value: API_SCOPE, description: 'Scope API clients request; the ALB requires it' });
      // Everything scripts/edge-cognito.sh needs, as key=value lines (`terraform output -raw cognito_edge_settings > cognito-edge.env`).
      const settings: Record<string, string | number> = {
        name_prefix: this.prefix,
        region: config.region,
        user_pool_id: pool.userPool.id,
        user_pool_arn: pool.userPool.arn,
        login_domain: pool.domain.domain,
        listener_arn: alb.listener.arn,
        target_group_arn: alb.targetGroup.arn,
        site_domain: cognito.siteDomain,
        session_cookie_name: edge.auth.cognito.sessionCookieName,
        session_hours: edge.auth.cognito.sessionHours,
        api_scope: API_SCOPE,
        api_token_minutes: edge.auth.cognito.apiTokenMinutes,
      };
      new TerraformOutput(this, 'cognito_edge_settings', {
        value: Object.entries(settings).map(([key, value]) => `${key}=${value}\n`).join(''),
        description: 'Settings file of scripts/edge-cognito.sh (app clients and the ALB sign-in rules; no secret)',
      });
    }
  }

  /** The Cognito side of mode `cognito`; the schema guarantees the custom domain it needs. */
  private cognitoAuth(props: EdgeStackProps, accountId: string): { auth: CognitoAuth; siteDomain: string } {
    const { config } = props;
    const settings = config.edge.auth.cognito;
    const siteDomain = config.edge.customDomain?.domainName;
    if (!siteDomain || !config.edge.alb.https) {
      throw new Error('edge.customDomain and edge.alb.https: both must be set for edge.auth.mode cognito (the ALB signs users in over HTTPS for the custom domain)');
    }
    const auth = new CognitoAuth(this, 'Cognito', {
      namePrefix: this.prefix,
      siteDomain,
      domainPrefix: settings.domainPrefix,
      accountId,
      region: config.region,
      mfa: settings.mfa,
      threatProtection: settings.threatProtection,
      passwordMinLength: settings.passwordMinLength,
      sessionHours: settings.sessionHours,
      deletionProtection: settings.deletionProtection,
      invitedUsers: settings.invitedUsers,
    });
    return { auth, siteDomain };
  }
}
