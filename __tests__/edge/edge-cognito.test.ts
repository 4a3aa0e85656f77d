/**
 * scripts/edge-cognito.sh: every Cognito app client secret of the edge is
 * made out of band, never by Terraform. The script runs against moto (user
 * pool, app clients, ALB listener rules) through the real AWS CLI; what moto
 * 5.2.5 lacks (client-secret rotation, managed login branding) is emulated by
 * an `aws` shim on PATH that records the exact calls (cognito-aws-shim.py).
 *
 * The setup mirrors what the edge stack creates in cognito mode (user pool,
 * login domain, resource server, HTTPS listener answering 403, the
 * cross-origin rule) and hands the script the stack's own
 * `cognito_edge_settings` output with its references resolved. (The bearer
 * token rule is left out: moto has no jwt-validation action.)
 */
import { spawnSync } from 'child_process';
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join, resolve } from 'path';
import { ALB_RULE_PRIORITY } from '../../constructs/edge/internal-alb';
import { MOTO_ENV, Moto, startMoto } from '../model-sync/moto';
import { synthEdge } from './fixtures';

jest.setTimeout(180_000);

const ROOT = resolve(__dirname, '../..');
const SCRIPT = join(ROOT, 'scripts/edge-cognito.sh');
const PYTHON = join(ROOT, '.tools/venv/bin/python');
const REAL_AWS = join(ROOT, '.tools/venv/bin/aws');
const SHIM = join(__dirname, 'cognito-aws-shim.py');
const SITE = 'comfy.studio.example';

/** What the edge stack would have created, in moto. */
interface Deployed {
  poolId: string;
  poolArn: string;
  domain: string;
  listenerArn: string;
  targetGroupArn: string;
}

const SETUP = String.raw`
import boto3, json
kw = dict(endpoint_url=__import__('os').environ['AWS_ENDPOINT_URL'], region_name='us-west-2')
idp, ec2, elb, acm = (boto3.client(s, **kw) for s in ('cognito-idp', 'ec2', 'elbv2', 'acm'))
pool = idp.create_user_pool(PoolName='comfyui-dev-edge')['UserPool']
idp.create_user_pool_domain(UserPoolId=pool['Id'], Domain='comfyui-dev-login')
idp.create_resource_server(UserPoolId=pool['Id'], Identifier='comfyui', Name='api', Scopes=[{'ScopeName': 'invoke', 'ScopeDescription': 'API'}])
vpc = ec2.create_vpc(CidrBlock='10.2.0.0/16')['Vpc']['VpcId']
subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f'10.2.{i}.0/24', AvailabilityZone=f'us-west-2{az}')['Subnet']['SubnetId'] for i, az in ((1, 'a'), (2, 'b'))]
lb = elb.create_load_balancer(Name='comfyui-dev-edge', Subnets=subnets, Scheme='internal')['LoadBalancers'][0]['LoadBalancerArn']
tg = elb.create_target_group(Name='comfyui-dev-comfyui', Protocol='HTTP', Port=8188, VpcId=vpc, TargetType='ip')['TargetGroups'][0]['TargetGroupArn']
cert = acm.request_certificate(DomainName='${SITE}')['CertificateArn']
listener = elb.create_listener(LoadBalancerArn=lb, Protocol='HTTPS', Port=443, Certificates=[{'CertificateArn': cert}],
    DefaultActions=[{'Type': 'fixed-response', 'FixedResponseConfig': {'StatusCode': '403', 'ContentType': 'text/plain', 'MessageBody': 'Forbidden'}}])['Listeners'][0]['ListenerArn']
elb.create_rule(ListenerArn=listener, Priority=${ALB_RULE_PRIORITY.crossOrigin}, Conditions=[{'Field': 'http-header', 'HttpHeaderConfig': {'HttpHeaderName': 'Origin', 'Values': ['*']}}],
    Actions=[{'Type': 'fixed-response', 'FixedResponseConfig': {'StatusCode': '403', 'ContentType': 'text/plain', 'MessageBody': 'Cross-site request refused'}}])
print(json.dumps(dict(poolId=pool['Id'], poolArn=pool['Arn'], domain='comfyui-dev-login', listenerArn=listener, targetGroupArn=tg)))
`;

/** The edge stack's cognito_edge_settings output, its Terraform references replaced by what moto made. */
function settingsFor(deployed: Deployed): string {
  const { parsed } = synthEdge({
    edge: {
      auth: { mode: 'cognito' },
      customDomain: { domainName: SITE, certificateArn: 'arn:aws:acm:us-east-1:123456789012:certificate/11111111-2222-3333-4444-555555555555' },
      alb: { https: { certificateArn: 'arn:aws:acm:us-west-2:123456789012:certificate/0f0e0d0c-0b0a-0908-0706-050403020100', originDomainName: `origin.${SITE}` } },
    },
  });
  const resolved: Record<string, string> = {
    'aws_cognito_user_pool.id': deployed.poolId,
    'aws_cognito_user_pool.arn': deployed.poolArn,
    'aws_cognito_user_pool_domain.domain': deployed.domain,
    'aws_lb_listener.arn': deployed.listenerArn,
    'aws_lb_target_group.arn': deployed.targetGroupArn,
  };
  return String(parsed.output.cognito_edge_settings.value).replace(/\$\{([a-z_]+)\.[A-Za-z0-9_-]+\.([a-z_]+)\}/g, (token, type, attribute) => {
    const value = resolved[`${type}.${attribute}`];
    if (!value) throw new Error(`unresolved reference ${token} in cognito_edge_settings`);
    return value;
  });
}

let moto: Moto;

beforeAll(async () => {
  moto = await startMoto();
});

afterAll(async () => {
  await moto?.stop();
});

/** A fresh deployment in moto, a settings file and an `aws` shim recording every call. */
async function deploy() {
  await moto.reset();
  const env = { ...process.env, ...MOTO_ENV, AWS_ENDPOINT_URL: moto.endpoint };
  const setup = spawnSync(PYTHON, ['-c', SETUP], { env, encoding: 'utf8', timeout: 60_000 });
  if (setup.status !== 0) throw new Error(`moto setup failed: ${setup.stderr}\n${moto.recentLog()}`);
  const deployed: Deployed = JSON.parse(setup.stdout);
  const dir = mkdtempSync(join(tmpdir(), 'edge-cognito-'));
  const settings = join(dir, 'cognito-edge.env');
  writeFileSync(settings, settingsFor(deployed));
  writeFileSync(join(dir, 'aws'), `#!/bin/sh\nexec "${PYTHON}" "${SHIM}" "$@"\n`);
  chmodSync(join(dir, 'aws'), 0o755);
  const log = join(dir, 'calls.log');
  writeFileSync(log, '');
  const shimEnv = { ...env, PATH: `${dir}:${process.env.PATH}`, REAL_AWS, FAKE_AWS_STATE: join(dir, 'state.json'), FAKE_AWS_LOG: log };
  const run = (...args: string[]) => spawnSync('bash', [SCRIPT, ...args], { env: shimEnv, encoding: 'utf8', timeout: 120_000 });
  /** A direct AWS CLI call against moto (not recorded), parsed. */
  const aws = (...args: string[]) => {
    const result = spawnSync(REAL_AWS, [...args, '--output', 'json'], { env, encoding: 'utf8', timeout: 60_000 });
    if (result.status !== 0) return { error: result.stderr };
    return JSON.parse(result.stdout || '{}');
  };
  const rules = (): any[] => aws('elbv2', 'describe-rules', '--listener-arn', deployed.listenerArn).Rules.filter((r: any) => !r.IsDefault);
  const rule = (priority: number) => rules().find((r) => r.Priority === String(priority));
  const clients = (): any[] => aws('cognito-idp', 'list-user-pool-clients', '--user-pool-id', deployed.poolId).UserPoolClients;
  const client = (id: string) => aws('cognito-idp', 'describe-user-pool-client', '--user-pool-id', deployed.poolId, '--client-id', id);
  const calls = (): string[][] => readFileSync(log, 'utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line));
  const shimState = () => JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8'));
  return { deployed, settings, run, aws, rules, rule, clients, client, calls, shimState };
}

const browserClientOf = (rule: any): string => rule.Actions.find((a: any) => a.Type === 'authenticate-cognito').AuthenticateCognitoConfig.UserPoolClientId;
const credentials = (stdout: string) => Object.fromEntries(stdout.trim().split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));

/** No secret ever reaches a command line (visible in ps): requests go in mode-600 files. */
function expectNoSecretInArgv(calls: string[][], secrets: string[]) {
  const argv = calls.flat().join(' ');
  for (const secret of secrets) {
    expect(secret.length).toBeGreaterThan(20);
    expect(argv).not.toContain(secret);
  }
  expect(argv).toContain('--cli-input-json file://');
}

/** No rule forwards without authenticating first: the listener fails closed. */
function expectNoUnauthenticatedForward(rules: any[]) {
  for (const r of rules) {
    const actions = [...r.Actions].sort((a: any, b: any) => (a.Order ?? 0) - (b.Order ?? 0));
    const forward = actions.findIndex((a: any) => a.Type === 'forward');
    if (forward >= 0) expect({ priority: r.Priority, before: actions[forward - 1]?.Type }).toEqual({ priority: r.Priority, before: 'authenticate-cognito' });
  }
}

describe('scripts/edge-cognito.sh', () => {
  it('before init the listener fails closed: 403 by default, no rule forwards, no app client exists', async () => {
    const d = await deploy();
    const all = d.aws('elbv2', 'describe-rules', '--listener-arn', d.deployed.listenerArn).Rules;
    expect(all.find((r: any) => r.IsDefault).Actions).toEqual([expect.objectContaining({ Type: 'fixed-response', FixedResponseConfig: expect.objectContaining({ StatusCode: '403' }) })]);
    expect(all.flatMap((r: any) => r.Actions).filter((a: any) => a.Type === 'forward')).toEqual([]);
    expect(d.clients()).toEqual([]);
  });

  it('init: creates the browser client (Cognito generates its secret), its login style and the two sign-in rules', async () => {
    const d = await deploy();
    const result = d.run('init', d.settings);
    expect(result.stderr).toContain('Created the browser client');
    expect(result.status).toBe(0);
    expect(result.stdout).toBe('');

    const [browser] = d.clients();
    expect(d.clients()).toHaveLength(1);
    const described = d.client(browser.ClientId).UserPoolClient;
    expect(described).toMatchObject({
      ClientName: 'comfyui-dev-alb',
      AllowedOAuthFlowsUserPoolClient: true,
      AllowedOAuthFlows: ['code'],
      AllowedOAuthScopes: ['openid'],
      SupportedIdentityProviders: ['COGNITO'],
      CallbackURLs: [`https://${SITE}/oauth2/idpresponse`],
      LogoutURLs: [`https://${SITE}/`],
      ExplicitAuthFlows: ['ALLOW_USER_SRP_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH'],
      PreventUserExistenceErrors: 'ENABLED',
      RefreshTokenValidity: 12,
    });
    expect(described.ClientSecret).toMatch(/^[\w-]{20,}$/);
    expect(d.shimState().brandings[browser.ClientId]).toMatchObject({ UserPoolId: d.deployed.poolId, UseCognitoProvidedValues: true });

    const signIn = {
      Type: 'authenticate-cognito',
      Order: 1,
      AuthenticateCognitoConfig: {
        UserPoolArn: d.deployed.poolArn,
        UserPoolClientId: browser.ClientId,
        UserPoolDomain: d.deployed.domain,
        SessionCookieName: 'comfyui-auth',
        Scope: 'openid',
        SessionTimeout: 43200,
        OnUnauthenticatedRequest: 'authenticate',
      },
    };
    const forward = { Type: 'forward', Order: 2, TargetGroupArn: d.deployed.targetGroupArn };
    expect(d.rules().map((r) => r.Priority).sort()).toEqual(['20', '30', '40']);
    expect(d.rule(ALB_RULE_PRIORITY.sameOrigin)).toMatchObject({ Conditions: [{ Field: 'http-header', HttpHeaderConfig: { HttpHeaderName: 'Origin', Values: [`https://${SITE}`] } }], Actions: [signIn, forward] });
    expect(d.rule(ALB_RULE_PRIORITY.signIn)).toMatchObject({ Conditions: [{ Field: 'path-pattern', Values: ['/*'] }], Actions: [signIn, forward] });
    expectNoUnauthenticatedForward(d.rules());
  });

  it('init: running it again keeps the client and the rules (and repairs a rule that drifted)', async () => {
    const d = await deploy();
    expect(d.run('init', d.settings).status).toBe(0);
    const [before, rulesBefore] = [d.clients(), d.rules()];
    expect(d.run('init', d.settings).status).toBe(0);
    expect(d.clients()).toEqual(before);
    expect(d.rules()).toEqual(rulesBefore);
    // Someone points the catch-all rule at the target group without sign-in: init puts the sign-in back.
    d.aws('elbv2', 'modify-rule', '--rule-arn', d.rule(ALB_RULE_PRIORITY.signIn).RuleArn, '--actions', `Type=forward,TargetGroupArn=${d.deployed.targetGroupArn}`);
    expect(d.run('init', d.settings).status).toBe(0);
    expect(d.rules()).toEqual(rulesBefore);
  });

  it('rotate-browser: a new client and secret; both rules switch to it before the old client and its style are deleted', async () => {
    const d = await deploy();
    d.run('init', d.settings);
    const old = browserClientOf(d.rule(ALB_RULE_PRIORITY.signIn));
    const oldSecret = d.client(old).UserPoolClient.ClientSecret;
    const before = d.calls().length;
    const result = d.run('rotate-browser', d.settings);
    expect(result.status).toBe(0);
    const current = browserClientOf(d.rule(ALB_RULE_PRIORITY.signIn));
    expect(current).not.toBe(old);
    expect(browserClientOf(d.rule(ALB_RULE_PRIORITY.sameOrigin))).toBe(current);
    expect(d.client(current).UserPoolClient.ClientSecret).not.toBe(oldSecret);
    expect(d.client(old).error).toContain('ResourceNotFoundException');
    expect(d.clients().map((c) => c.ClientId)).toEqual([current]);
    expect(Object.keys(d.shimState().brandings)).toEqual([current]);

    // Order: create the new client and its style, switch both rules, only then delete the old style and client.
    const calls = d.calls().slice(before).map((c) => c.slice(0, 2).join(' '));
    const created = calls.indexOf('cognito-idp create-user-pool-client');
    const styled = calls.indexOf('cognito-idp create-managed-login-branding');
    const switched = calls.lastIndexOf('elbv2 modify-rule');
    const unstyled = calls.indexOf('cognito-idp delete-managed-login-branding');
    const deleted = calls.indexOf('cognito-idp delete-user-pool-client');
    expect(calls.filter((c) => c === 'elbv2 modify-rule')).toHaveLength(2);
    expect(created).toBeGreaterThan(-1);
    expect([created, styled, calls.indexOf('elbv2 modify-rule'), switched, unstyled, deleted]).toEqual([...[created, styled, calls.indexOf('elbv2 modify-rule'), switched, unstyled, deleted]].sort((x, y) => x - y));
    expect(new Set([created, styled, switched, unstyled, deleted]).size).toBe(5);
    expectNoSecretInArgv(d.calls(), [oldSecret, d.client(current).UserPoolClient.ClientSecret]);
    expectNoUnauthenticatedForward(d.rules());
  });

  it('api-create: a machine client with client credentials and only the API scope; id and secret on stdout only', async () => {
    const d = await deploy();
    const result = d.run('api-create', d.settings, 'render-farm');
    expect(result.status).toBe(0);
    const created = credentials(result.stdout);
    expect(Object.keys(created)).toEqual(['client_id', 'client_secret']);
    const described = d.client(created.client_id).UserPoolClient;
    expect(described).toMatchObject({
      ClientName: 'comfyui-dev-api-render-farm',
      ClientSecret: created.client_secret,
      AllowedOAuthFlowsUserPoolClient: true,
      AllowedOAuthFlows: ['client_credentials'],
      AllowedOAuthScopes: ['comfyui/invoke'],
      SupportedIdentityProviders: ['COGNITO'],
      AccessTokenValidity: 60,
      TokenValidityUnits: { AccessToken: 'minutes' },
    });
    expect(described.CallbackURLs ?? []).toEqual([]);
    expect(result.stderr).not.toContain(created.client_secret);
    // A second client of the same name is refused, pointing at rotation.
    const again = d.run('api-create', d.settings, 'render-farm');
    expect(again.status).toBe(2);
    expect(again.stderr).toContain('api-rotate');
    expect(d.clients()).toHaveLength(1);
  });

  it('api-rotate, then api-retire: two valid secrets while scripts move over, then only the new one', async () => {
    const d = await deploy();
    const { client_id: id, client_secret: first } = credentials(d.run('api-create', d.settings, 'nightly').stdout);
    const rotated = d.run('api-rotate', d.settings, 'nightly');
    expect(rotated.status).toBe(0);
    const second = credentials(rotated.stdout);
    expect(second.client_id).toBe(id);
    expect(second.client_secret).toMatch(/^\w{24,64}$/);
    expect(second.client_secret).not.toBe(first);
    expect(d.shimState().secrets[id].map((s: any) => s.ClientSecretValue)).toEqual([first, second.client_secret]);
    expect(d.calls()).toContainEqual(['cognito-idp', 'add-user-pool-client-secret', '--region', 'us-west-2', '--user-pool-id', d.deployed.poolId, '--client-id', id, '--query', 'ClientSecretDescriptor.[ClientSecretId,ClientSecretValue]', '--output', 'text']);

    // Cognito keeps two secrets at most: a third rotation must wait for api-retire.
    const third = d.run('api-rotate', d.settings, 'nightly');
    expect(third.status).toBe(2);
    expect(third.stderr).toContain('api-retire');

    const retired = d.run('api-retire', d.settings, 'nightly');
    expect(retired.status).toBe(0);
    expect(d.shimState().secrets[id].map((s: any) => s.ClientSecretValue)).toEqual([second.client_secret]);
    expect(d.calls()).toContainEqual(['cognito-idp', 'delete-user-pool-client-secret', '--region', 'us-west-2', '--user-pool-id', d.deployed.poolId, '--client-id', id, '--client-secret-id', `initial-${id}`]);
    expect(d.run('api-retire', d.settings, 'nightly').stderr).toContain('nothing to retire');
    expect(d.run('api-rotate', d.settings, 'nightly').status).toBe(0);
    expectNoSecretInArgv(d.calls(), [first, second.client_secret]);
  });

  it('api-delete removes the client; list shows clients and secret ids, never a secret value', async () => {
    const d = await deploy();
    d.run('init', d.settings);
    const a = credentials(d.run('api-create', d.settings, 'render-farm').stdout);
    const b = credentials(d.run('api-create', d.settings, 'ci').stdout);
    const listed = d.run('list', d.settings);
    expect(listed.status).toBe(0);
    const browser = browserClientOf(d.rule(ALB_RULE_PRIORITY.signIn));
    expect(listed.stdout).toContain(`browser\tcomfyui-dev-alb\t${browser}`);
    expect(listed.stdout).toContain(`api\trender-farm\t${a.client_id}\t1 secret(s)`);
    expect(listed.stdout).toContain(`api\tci\t${b.client_id}\t1 secret(s)`);
    for (const secret of [a.client_secret, b.client_secret, d.client(browser).UserPoolClient.ClientSecret]) expect(listed.stdout + listed.stderr).not.toContain(secret);

    expect(d.run('api-delete', d.settings, 'ci').status).toBe(0);
    expect(d.client(b.client_id).error).toContain('ResourceNotFoundException');
    expect(d.clients().map((c) => c.ClientName).sort()).toEqual(['comfyui-dev-alb', 'comfyui-dev-api-render-farm']);
  });

  it('finds API clients past the first page of 60 (the CLI paginates)', async () => {
    const d = await deploy();
    const many = String.raw`
import boto3, os, sys
idp = boto3.client('cognito-idp', endpoint_url=os.environ['AWS_ENDPOINT_URL'], region_name='us-west-2')
for i in range(61):
    idp.create_user_pool_client(UserPoolId=sys.argv[1], ClientName=f'comfyui-dev-api-bulk-{i:02d}', GenerateSecret=True)
`;
    const made = spawnSync(PYTHON, ['-c', many, d.deployed.poolId], { env: { ...process.env, ...MOTO_ENV, AWS_ENDPOINT_URL: moto.endpoint }, encoding: 'utf8', timeout: 60_000 });
    expect(made.status).toBe(0);
    const again = d.run('api-create', d.settings, 'bulk-60');
    expect(again.status).toBe(2);
    expect(again.stderr).toContain('API client bulk-60 exists');
    expect(d.run('api-delete', d.settings, 'bulk-60').status).toBe(0);
    expect(d.clients().map((c: any) => c.ClientName)).not.toContain('comfyui-dev-api-bulk-60');
  });

  it('teardown: removes the sign-in rules, the style and the browser client; the listener fails closed again', async () => {
    const d = await deploy();
    d.run('init', d.settings);
    const browser = browserClientOf(d.rule(ALB_RULE_PRIORITY.signIn));
    const result = d.run('teardown', d.settings);
    expect(result.status).toBe(0);
    expect(d.rules().map((r) => r.Priority)).toEqual([String(ALB_RULE_PRIORITY.crossOrigin)]);
    expect(d.client(browser).error).toContain('ResourceNotFoundException');
    expect(d.shimState().brandings).toEqual({});
    expect(d.run('teardown', d.settings).status).toBe(0);
  });

});

describe('scripts/edge-cognito.sh refuses bad input (nothing changes)', () => {
  let refusals: ReturnType<typeof deploy>;
  beforeAll(() => {
    refusals = deploy();
  });

  it.each([
    [['rotate-browser'], "run 'scripts/edge-cognito.sh init' first"],
    [['api-rotate', 'ghost'], 'no API client ghost'],
    [['api-delete', 'ghost'], 'no API client ghost'],
    [['api-create', 'Render Farm'], 'NAME must be 1-32 lowercase letters, digits and hyphens'],
    [['api-create', 'x', '--force'], 'unknown option --force'],
    [['rotate'], 'Manages the Cognito app clients'],
  ])('refuses %j with a clear message', async (args, message) => {
    const d = await refusals;
    const [command, ...rest] = args;
    const result = d.run(command, d.settings, ...rest);
    expect(result.status).toBe(2);
    expect(result.stderr.replaceAll(SCRIPT, 'scripts/edge-cognito.sh')).toContain(message);
  });

  it.each([
    ['a missing key', (s: string) => s.replace(/^listener_arn=.*\n/m, ''), 'settings: listener_arn is missing'],
    ['an unknown key', (s: string) => `${s}extra=1\n`, 'settings: unknown key extra'],
    ['a bad value', (s: string) => s.replace(/^session_hours=.*$/m, 'session_hours=200'), 'settings: session_hours must be 1-168, got 200'],
    ['a listener of another kind', (s: string) => s.replace(/^listener_arn=.*$/m, 'listener_arn=arn:aws:iam::123456789012:role/x'), 'settings: listener_arn must be an ALB listener ARN'],
  ])('refuses a settings file with %s, naming the key, and changes nothing', async (_, edit, message) => {
    const d = await refusals;
    const edited = `${d.settings}.edited`;
    writeFileSync(edited, edit(readFileSync(d.settings, 'utf8')));
    const before = d.calls().length;
    const result = d.run('init', edited);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain(message);
    expect(d.calls().slice(before)).toEqual([]);
  });

  it('the settings file tells how to make it when it is missing', async () => {
    const d = await refusals;
    const result = d.run('init', '/nonexistent/cognito-edge.env');
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('terraform output -raw cognito_edge_settings');
  });
});
