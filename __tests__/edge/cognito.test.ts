/**
 * edge.auth.mode cognito: a Cognito user pool, the ALB's authenticate-cognito
 * action for browsers, JWT verification for scripts, cross-site refusal, and
 * a CloudFront distribution that forwards Host and caches nothing.
 */
import { CloudfrontDistribution } from '@cdktf/provider-aws/lib/cloudfront-distribution';
import { CognitoUserPool } from '@cdktf/provider-aws/lib/cognito-user-pool';
import { CognitoUserPoolDomain } from '@cdktf/provider-aws/lib/cognito-user-pool-domain';
import { LbListener } from '@cdktf/provider-aws/lib/lb-listener';
import { readFileSync } from 'fs';
import { join } from 'path';
import { TerraformStack, Testing } from 'cdktf';
import { parse as parseYaml } from 'yaml';
import { ConfigInput, parseConfig } from '../../config';
import { MANAGED_ALL_VIEWER, MANAGED_CACHING_DISABLED } from '../../constructs/edge/edge-distribution';
import { InternalAlb } from '../../constructs/edge/internal-alb';
import { buildPlatform } from '../../stacks/app';
import { EdgeStack } from '../../stacks/edge-stack';
import { testConfig } from '../helpers/config';
import { FAKE_CLUSTER, FAKE_NETWORK, synthEdge } from './fixtures';

const SITE = 'comfy.studio.example';
const CLOUDFRONT_CERT = 'arn:aws:acm:us-east-1:123456789012:certificate/11111111-2222-3333-4444-555555555555';
const ALB_CERT = 'arn:aws:acm:us-west-2:123456789012:certificate/0f0e0d0c-0b0a-0908-0706-050403020100';

/** A valid cognito-mode input: custom domain plus HTTPS to the ALB, merged with extra cognito settings. */
function cognitoInput(cognito: Record<string, unknown> = {}, extra: ConfigInput = {}): ConfigInput {
  return {
    ...extra,
    edge: {
      auth: { mode: 'cognito', cognito },
      customDomain: { domainName: SITE, certificateArn: CLOUDFRONT_CERT },
      alb: { https: { certificateArn: ALB_CERT, originDomainName: `origin.${SITE}` } },
    },
  } as ConfigInput;
}

function errorsOf(input: unknown): string {
  const result = parseConfig(input);
  if (result.ok) throw new Error('expected the config to be rejected');
  return result.errors.join('\n');
}

const values = (parsed: any, type: string): any[] => Object.values(parsed.resource?.[type] ?? {});
const keyOf = (parsed: any, type: string, predicate: (r: any) => boolean = () => true): string => {
  const entry = Object.entries(parsed.resource?.[type] ?? {}).find(([, r]) => predicate(r));
  if (!entry) throw new Error(`no ${type} matched`);
  return entry[0];
};
const ref = (parsed: any, type: string, attribute: string, predicate?: (r: any) => boolean) => `\${${type}.${keyOf(parsed, type, predicate)}.${attribute}}`;
const one = (parsed: any, type: string): any => {
  const all = values(parsed, type);
  expect(all).toHaveLength(1);
  return all[0];
};

describe('cognito config', () => {
  it('defaults: optional TOTP MFA, no threat protection, 12 h sessions, deletion protection on, nobody invited', () => {
    const { cognito } = testConfig(cognitoInput()).edge.auth;
    expect(cognito).toStrictEqual({
      mfa: 'optional',
      threatProtection: 'off',
      passwordMinLength: 12,
      sessionHours: 12,
      sessionCookieName: 'comfyui-auth',
      deletionProtection: true,
      invitedUsers: [],
      apiTokenMinutes: 60,
    });
  });

  it('rejects API clients in config (their secrets would be in Terraform state), accepting an empty list', () => {
    expect(errorsOf(cognitoInput({ apiClients: ['render-farm'] }))).toContain('edge.auth.cognito.apiClients: removed: api clients are created with scripts/edge-cognito.sh api-create');
    expect(parseConfig(cognitoInput({ apiClients: [] })).ok).toBe(true);
  });

  it.each([
    [{ edge: { auth: { mode: 'cognito' }, alb: { https: { certificateArn: ALB_CERT, originDomainName: `origin.${SITE}` } } } }, 'edge.customDomain: must be set when auth.mode is cognito'],
    [{ edge: { auth: { mode: 'cognito' }, customDomain: { domainName: SITE, certificateArn: CLOUDFRONT_CERT } } }, 'edge.alb.https: must be set when auth.mode is cognito'],
    [cognitoInput({ domainPrefix: 'my-aws-login' }), 'edge.auth.cognito.domainPrefix: must not contain aws, amazon, cognito'],
    [cognitoInput({ domainPrefix: '-login' }), 'edge.auth.cognito.domainPrefix: must be 1-63 lowercase letters'],
    [cognitoInput({}, { name: 'amazonstudio' }), 'edge.auth.cognito.domainPrefix: must be set: the derived prefix amazonstudio-dev-... contains "amazon"'],
    [cognitoInput({ invitedUsers: ['ann@studio.example', 'Ann@Studio.example'] }), 'edge.auth.cognito.invitedUsers.1: must be unique, Ann@Studio.example is listed twice'],
    [cognitoInput({ invitedUsers: ['ann'] }), 'edge.auth.cognito.invitedUsers.0: must be an email address'],
    [cognitoInput({ sessionHours: 200 }), 'edge.auth.cognito.sessionHours: '],
    [cognitoInput({ mfa: 'sms' }), 'edge.auth.cognito.mfa: '],
    [cognitoInput({ password: 'hunter2' }), 'edge.auth.cognito.password: unknown key'],
  ])('%j -> %s', (input, expected) => {
    expect(errorsOf(input)).toContain(expected);
  });

  it('accepts a derived prefix when a custom one is given even if the name has a reserved word', () => {
    expect(parseConfig(cognitoInput({ domainPrefix: 'studio-login' }, { name: 'amazonstudio' })).ok).toBe(true);
  });
});

describe('EdgeStack, cognito mode: user pool and clients', () => {
  const { synth, parsed } = synthEdge(cognitoInput({ invitedUsers: ['Ann@Studio.example', 'bob@studio.example'] }));

  it('creates a user pool only administrators add users to, with email usernames, a strong password policy, optional TOTP and deletion protection', () => {
    expect(synth).toHaveResourceWithProperties(CognitoUserPool, {
      name: 'comfyui-dev-edge',
      user_pool_tier: 'ESSENTIALS',
      deletion_protection: 'ACTIVE',
      username_attributes: ['email'],
      auto_verified_attributes: ['email'],
      admin_create_user_config: expect.objectContaining({ allow_admin_create_user_only: true }),
      password_policy: {
        minimum_length: 12,
        require_lowercase: true,
        require_uppercase: true,
        require_numbers: true,
        require_symbols: true,
        temporary_password_validity_days: 7,
        password_history_size: 5,
      },
      mfa_configuration: 'OPTIONAL',
      software_token_mfa_configuration: { enabled: true },
      user_pool_add_ons: { advanced_security_mode: 'OFF' },
      account_recovery_setting: { recovery_mechanism: [{ name: 'verified_email', priority: 1 }] },
    });
    const invite = one(parsed, 'aws_cognito_user_pool').admin_create_user_config.invite_message_template.email_message;
    expect(invite).toContain(`https://${SITE}`);
    expect(invite).toContain('{username}');
    expect(invite).toContain('{####}');
  });

  it('creates no app client and no login style: clients and their secrets are made out of band (scripts/edge-cognito.sh)', () => {
    expect(parsed.resource.aws_cognito_user_pool_client).toBeUndefined();
    expect(parsed.resource.aws_cognito_managed_login_branding).toBeUndefined();
    // The data source would store client_secret in state just the same.
    expect(parsed.data?.aws_cognito_user_pool_client).toBeUndefined();
    expect(synth).not.toMatch(/generate_secret|client_secret/);
  });

  it('serves managed login (v2) on a derived, hashed domain prefix', () => {
    const domain = one(parsed, 'aws_cognito_user_pool_domain');
    expect(domain).toMatchObject({ user_pool_id: ref(parsed, 'aws_cognito_user_pool', 'id'), managed_login_version: 2 });
    expect(domain.domain).toBe('comfyui-dev-${substr(sha256(join("/", [data.aws_caller_identity.Account.account_id, "us-west-2", "comfyui-dev"])), 0, 10)}');
    const custom = synthEdge(cognitoInput({ domainPrefix: 'studio-comfy-login' }));
    expect(custom.synth).toHaveResourceWithProperties(CognitoUserPoolDomain, { domain: 'studio-comfy-login' });
  });

  it('keeps the API resource server and its one scope in Terraform (the clients the script makes are granted it)', () => {
    const resourceServer = one(parsed, 'aws_cognito_resource_server');
    expect(resourceServer).toMatchObject({ identifier: 'comfyui', user_pool_id: ref(parsed, 'aws_cognito_user_pool', 'id'), scope: [expect.objectContaining({ scope_name: 'invoke' })] });
  });

  it('invites configured emails (lower-cased, verified) without any password in config or state', () => {
    const users = values(parsed, 'aws_cognito_user');
    expect(users.map((u) => u.username).sort()).toEqual(['ann@studio.example', 'bob@studio.example']);
    for (const user of users) {
      expect(user).toMatchObject({ desired_delivery_mediums: ['EMAIL'], attributes: { email: user.username, email_verified: 'true' } });
      expect(user.password).toBeUndefined();
      expect(user.temporary_password).toBeUndefined();
      expect(user.message_action).toBeUndefined();
    }
  });

  it('follows mfa, threat protection, password length, deletion protection and token lifetime settings', () => {
    const strict = synthEdge(cognitoInput({ mfa: 'required', threatProtection: 'enforced', passwordMinLength: 16, deletionProtection: false, apiTokenMinutes: 15 })).parsed;
    expect(one(strict, 'aws_cognito_user_pool')).toMatchObject({
      mfa_configuration: 'ON',
      software_token_mfa_configuration: { enabled: true },
      user_pool_tier: 'PLUS',
      user_pool_add_ons: { advanced_security_mode: 'ENFORCED' },
      password_policy: expect.objectContaining({ minimum_length: 16 }),
      deletion_protection: 'INACTIVE',
    });
    expect(strict.output.cognito_edge_settings.value).toContain('\napi_token_minutes=15\n');
    const off = one(synthEdge(cognitoInput({ mfa: 'off', threatProtection: 'audit' })).parsed, 'aws_cognito_user_pool');
    expect(off).toMatchObject({ mfa_configuration: 'OFF', user_pool_tier: 'PLUS', user_pool_add_ons: { advanced_security_mode: 'AUDIT' } });
    expect(off.software_token_mfa_configuration).toBeUndefined();
  });

  it('outputs the pool, the login domain, the token endpoint and the API scope', () => {
    const domainRef = ref(parsed, 'aws_cognito_user_pool_domain', 'domain');
    expect(parsed.output.cognito_user_pool_id.value).toBe(ref(parsed, 'aws_cognito_user_pool', 'id'));
    expect(parsed.output.cognito_login_url.value).toBe(`https://${domainRef}.auth.us-west-2.amazoncognito.com`);
    expect(parsed.output.cognito_token_url.value).toBe(`https://${domainRef}.auth.us-west-2.amazoncognito.com/oauth2/token`);
    expect(parsed.output.cognito_api_scope.value).toBe('comfyui/invoke');
    expect(parsed.output.comfyui_url).toEqual({ value: `https://${SITE}`, description: 'Open ComfyUI here (Cognito sign-in; scripts send a Cognito bearer token)' });
    expect(parsed.output.auth_key_value_store_name).toBeUndefined();
    expect(parsed.output.cognito_api_client_ids).toBeUndefined();
  });

  it('outputs everything scripts/edge-cognito.sh needs as key=value lines (no secret)', () => {
    const settings = Object.fromEntries(
      String(parsed.output.cognito_edge_settings.value)
        .trim()
        .split('\n')
        .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
    );
    expect(settings).toEqual({
      name_prefix: 'comfyui-dev',
      region: 'us-west-2',
      user_pool_id: ref(parsed, 'aws_cognito_user_pool', 'id'),
      user_pool_arn: ref(parsed, 'aws_cognito_user_pool', 'arn'),
      login_domain: ref(parsed, 'aws_cognito_user_pool_domain', 'domain'),
      listener_arn: ref(parsed, 'aws_lb_listener', 'arn'),
      target_group_arn: ref(parsed, 'aws_lb_target_group', 'arn'),
      site_domain: SITE,
      session_cookie_name: 'comfyui-auth',
      session_hours: '12',
      api_scope: 'comfyui/invoke',
      api_token_minutes: '60',
    });
    expect(parsed.output.cognito_edge_settings.description).toContain('scripts/edge-cognito.sh');
  });
});

describe('EdgeStack, cognito mode: the ALB authenticates', () => {
  const { synth, parsed } = synthEdge(cognitoInput());
  const rules = values(parsed, 'aws_lb_listener_rule').sort((a, b) => a.priority - b.priority);
  const forward = { type: 'forward', order: 2, target_group_arn: ref(parsed, 'aws_lb_target_group', 'arn') };

  it('fails closed until scripts/edge-cognito.sh init: the listener answers 403 by default, it never forwards', () => {
    expect(synth).toHaveResourceWithProperties(LbListener, {
      protocol: 'HTTPS',
      port: 443,
      certificate_arn: ALB_CERT,
      default_action: [
        { type: 'fixed-response', fixed_response: { status_code: '403', content_type: 'text/plain', message_body: 'Forbidden: sign-in is not set up yet (scripts/edge-cognito.sh init)\n' } },
      ],
    });
  });

  it('keeps only the rules that need no app client in Terraform: bearer token (10) and any other Origin (30)', () => {
    expect(rules.map((r) => r.priority)).toEqual([10, 30]);
    for (const rule of rules) expect(rule.listener_arn).toBe(ref(parsed, 'aws_lb_listener', 'arn'));
    // The sign-in rules reference the browser client, which only exists out of band.
    expect(synth).not.toContain('authenticate-cognito');
    expect(synth).not.toContain('authenticate_cognito');
  });

  it('verifies bearer tokens: signed by the user pool, an access token, carrying the API scope, then forward', () => {
    const [bearer] = rules;
    expect(bearer.condition).toEqual([{ http_header: { http_header_name: 'Authorization', values: ['Bearer *'] } }]);
    const issuer = `https://${ref(parsed, 'aws_cognito_user_pool', 'endpoint')}`;
    expect(bearer.action).toEqual([
      {
        type: 'jwt-validation',
        order: 1,
        jwt_validation: {
          issuer,
          jwks_endpoint: `${issuer}/.well-known/jwks.json`,
          additional_claim: [
            { name: 'token_use', format: 'single-string', values: ['access'] },
            { name: 'scope', format: 'space-separated-values', values: ['comfyui/invoke'] },
          ],
        },
      },
      forward,
    ]);
  });

  it('refuses every cross-site Origin with 403 and forwards nothing unauthenticated', () => {
    const crossOrigin = rules.find((r) => r.priority === 30);
    expect(crossOrigin.condition).toEqual([{ http_header: { http_header_name: 'Origin', values: ['*'] } }]);
    expect(crossOrigin.action).toEqual([{ type: 'fixed-response', fixed_response: { status_code: '403', content_type: 'text/plain', message_body: 'Cross-site request refused\n' } }]);
    // Every rule that forwards authenticates first.
    for (const rule of rules) {
      const forwards = rule.action.findIndex((a: any) => a.type === 'forward');
      if (forwards >= 0) expect(rule.action[forwards - 1]?.type).toBe('jwt-validation');
    }
  });

  it('lets the ALB reach Cognito over HTTPS (egress 443) and still nothing in', () => {
    const albSg = ref(parsed, 'aws_security_group', 'id');
    const egress = values(parsed, 'aws_vpc_security_group_egress_rule').filter((r) => r.security_group_id === albSg);
    expect(egress.map((r) => [r.cidr_ipv4, r.from_port, r.to_port]).sort()).toEqual([
      ['0.0.0.0/0', 443, 443],
      [FAKE_NETWORK.vpcCidr, 8188, 8188],
    ]);
    const ingress = values(parsed, 'aws_vpc_security_group_ingress_rule').filter((r) => r.security_group_id === albSg);
    expect(ingress).toHaveLength(1);
    expect(ingress[0].cidr_ipv4).toBeUndefined();
    // Basic mode keeps the ALB away from the internet entirely.
    expect(values(synthEdge().parsed, 'aws_vpc_security_group_egress_rule').map((r) => r.cidr_ipv4)).toEqual([FAKE_NETWORK.vpcCidr]);
  });
});

describe('EdgeStack, cognito mode: CloudFront', () => {
  const { synth, parsed } = synthEdge(cognitoInput());
  const distribution = one(parsed, 'aws_cloudfront_distribution');

  it('attaches no CloudFront Function and creates no KeyValueStore', () => {
    expect(parsed.resource.aws_cloudfront_function).toBeUndefined();
    expect(parsed.resource.aws_cloudfront_key_value_store).toBeUndefined();
    expect(parsed.resource.aws_cloudfrontkeyvaluestore_key).toBeUndefined();
    expect(parsed.data.aws_secretsmanager_random_password).toBeUndefined();
    expect(distribution.default_cache_behavior.function_association).toBeUndefined();
  });

  it('forwards the viewer Host header, cookies and query strings (managed AllViewer) and caches nothing', () => {
    expect(synth).toHaveResourceWithProperties(CloudfrontDistribution, {
      aliases: [SITE],
      default_cache_behavior: expect.objectContaining({ origin_request_policy_id: MANAGED_ALL_VIEWER, cache_policy_id: MANAGED_CACHING_DISABLED }),
    });
    expect(distribution.ordered_cache_behavior).toBeUndefined();
    expect(parsed.resource.aws_cloudfront_cache_policy).toBeUndefined();
  });

  it('reaches the ALB over HTTPS (the VPC origin is https-only on 443)', () => {
    expect(one(parsed, 'aws_cloudfront_vpc_origin').vpc_origin_endpoint_config[0]).toMatchObject({ origin_protocol_policy: 'https-only', https_port: 443 });
  });

  it('matches the reviewed snapshot', () => {
    expect(synthEdge(cognitoInput({ invitedUsers: ['ann@studio.example'] })).synth).toMatchSnapshot();
  });
});

describe('cognito mode, every stack of config/examples/cognito.yaml', () => {
  const config = testConfig(parseYaml(readFileSync(join(__dirname, '../../config/examples/cognito.yaml'), 'utf8')));
  const stacks = Object.values(buildPlatform(Testing.app(), config)).filter((s): s is TerraformStack => s instanceof TerraformStack);
  const synthesized = stacks.map((stack) => ({ id: stack.node.id, json: Testing.synth(stack) }));

  it('synthesizes every stack, the edge one among them', () => {
    expect(synthesized.map((s) => s.id)).toContain('studio-staging-edge');
  });

  it.each(['generate_secret', 'client_secret', 'aws_cognito_user_pool_client', 'aws_cognito_managed_login_branding'])(
    'no stack mentions %s: no Cognito client secret can reach Terraform state (resource or data source)',
    (needle) => {
      for (const { id, json } of synthesized) expect({ id, mentions: json.includes(needle) }).toEqual({ id, mentions: false });
    },
  );
});

describe('cognito mode guards', () => {
  it('refuses to build cognito mode from unvalidated config without the custom domain', () => {
    const config = testConfig(cognitoInput());
    const bad = { ...config, edge: { ...config.edge, customDomain: undefined } };
    expect(() => new EdgeStack(Testing.app(), 'edge', { config: bad, network: FAKE_NETWORK, cluster: FAKE_CLUSTER })).toThrow(/edge\.customDomain and edge\.alb\.https/);
  });

  it('refuses Cognito authentication on an HTTP listener', () => {
    const stack = new TerraformStack(Testing.app(), 'alb');
    expect(
      () =>
        new InternalAlb(stack, 'Alb', {
          namePrefix: 'x',
          vpcId: 'vpc-1',
          vpcCidr: '10.0.0.0/16',
          subnetIds: ['subnet-1'],
          nodeSecurityGroupId: 'sg-1',
          targetPort: 8188,
          listener: { protocol: 'HTTP', port: 80 },
          healthCheckPath: '/',
          idleTimeoutSeconds: 60,
          deregistrationDelaySeconds: 0,
          deletionProtection: false,
          accessLogs: { bucket: 'b', prefix: 'alb' },
          authentication: {
            issuer: 'https://issuer',
            jwksEndpoint: 'https://issuer/jwks',
            apiScope: 'comfyui/invoke',
          },
        }),
    ).toThrow(/edge\.alb\.https: Cognito authentication at the ALB needs an HTTPS listener/);
  });
});
