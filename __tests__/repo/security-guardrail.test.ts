/**
 * The guardrail docs/security.md ships (issue 18 item 1): both JSON blocks
 * parse, pass moto's IAM policy validator (the checks IAM applies on
 * CreatePolicy), name only actions that exist in the AWS API models
 * (botocore), and cover every permission the doc lists as "can sign in as
 * any user".
 */
import { spawnSync } from 'child_process';
import { readFileSync } from 'fs';
import { join } from 'path';

const ROOT = join(__dirname, '..', '..');
const PYTHON = join(ROOT, '.tools', 'venv', 'bin', 'python');
const DOC = readFileSync(join(ROOT, 'docs', 'security.md'), 'utf8');

function block(name: string): any {
  const match = new RegExp('```json ' + name + '\\n([\\s\\S]*?)\\n```').exec(DOC);
  if (!match) throw new Error(`docs/security.md has no \`\`\`json ${name} block`);
  return JSON.parse(match[1]);
}

/** Runs moto's validator and botocore's models on a policy; returns problems (empty when valid). */
function validate(policy: unknown): string[] {
  const script = String.raw`
import json, sys
import botocore.session
from moto.iam.policy_validation import IAMPolicyDocumentValidator
policy = sys.stdin.read()
problems = []
try:
    IAMPolicyDocumentValidator(policy).validate()
except Exception as error:
    problems.append('moto: %s' % error)
session = botocore.session.get_session()
available = set(session.get_available_services())
# IAM prefix -> botocore service name where they differ (cloudfront, cloudfront-keyvaluestore, cognito-idp are the same).
SERVICE_NAMES = {'elasticloadbalancing': 'elbv2'}
def operations(prefix):
    service = SERVICE_NAMES.get(prefix, prefix)
    return set(session.get_service_model(service).operation_names) if service in available else set()
for statement in json.loads(policy)['Statement']:
    actions = statement['Action'] if isinstance(statement['Action'], list) else [statement['Action']]
    for action in actions:
        if action == '*':
            continue
        service, _, operation = action.partition(':')
        if operation not in operations(service):
            problems.append('unknown action %s' % action)
print(json.dumps(problems))
`;
  const result = spawnSync(PYTHON, ['-c', script], { input: JSON.stringify(policy), encoding: 'utf8', timeout: 60000 });
  if (result.status !== 0) throw new Error(`validator failed: ${result.stderr}`);
  return JSON.parse(result.stdout);
}

const SIGN_IN_AS_ANYONE = [
  'cloudfront-keyvaluestore:GetKey',
  'cloudfront-keyvaluestore:ListKeys',
  'cloudfront-keyvaluestore:PutKey',
  'cloudfront-keyvaluestore:UpdateKeys',
  'cloudfront:UpdateFunction',
  'cloudfront:TestFunction',
  'cloudfront:CreateFunction',
  'cloudfront:PublishFunction',
  'cloudfront:UpdateDistribution',
  // Cognito mode: client secrets live only in Cognito (scripts/edge-cognito.sh), the ALB rules are the check.
  'cognito-idp:DescribeUserPoolClient',
  'cognito-idp:AddUserPoolClientSecret',
  'cognito-idp:CreateUserPoolClient',
  'cognito-idp:UpdateUserPoolClient',
  'cognito-idp:AdminSetUserPassword',
  'cognito-idp:AdminCreateUser',
  'elasticloadbalancing:CreateRule',
  'elasticloadbalancing:ModifyRule',
  'elasticloadbalancing:ModifyListener',
  'elasticloadbalancing:SetRulePriorities',
];

describe('docs/security.md guardrail', () => {
  it.each(['guardrail-deny', 'guardrail-boundary'])('%s is a valid IAM policy naming real actions', (name) => {
    expect(validate(block(name))).toEqual([]);
  });

  it('the validator catches what it must (a typo in an action, a malformed condition)', () => {
    const policy = block('guardrail-deny');
    const typo = { ...policy, Statement: [{ ...policy.Statement[0], Action: ['cloudfront-keyvaluestore:GetKeys'] }] };
    expect(validate(typo)).toEqual(['unknown action cloudfront-keyvaluestore:GetKeys']);
    const badCondition = { ...policy, Statement: [{ ...policy.Statement[0], Condition: { ArnNotLike: 'not-a-map' } }] };
    expect(validate(badCondition).join()).toMatch(/^moto: /);
  });

  it.each(['guardrail-deny', 'guardrail-boundary'])('%s denies every permission listed as "can sign in as any user"', (name) => {
    const denied = block(name).Statement.filter((s: any) => s.Effect === 'Deny').flatMap((s: any) => s.Action);
    expect(denied).toEqual(expect.arrayContaining(SIGN_IN_AS_ANYONE));
    for (const action of SIGN_IN_AS_ANYONE) expect(DOC).toContain(action.split(':')[1]);
  });

  it('every deny statement exempts only named deploy/edge-admin roles, the same ones', () => {
    const statements = block('guardrail-deny').Statement;
    expect(statements.length).toBeGreaterThan(0);
    for (const statement of statements) {
      expect(statement.Effect).toBe('Deny');
      expect(Object.keys(statement.Condition)).toEqual(['ArnNotLike']);
      for (const arn of statement.Condition.ArnNotLike['aws:PrincipalArn']) expect(arn).toMatch(/^arn:aws:iam::\d{12}:role\/[A-Za-z0-9+=,.@_-]+$/);
      expect(statement.Condition).toEqual(statements[0].Condition);
    }
  });

  it('the Cognito statements deny the user pool and listener writes on this account only', () => {
    const cognito = block('guardrail-deny').Statement.filter((s: any) => s.Action.some((a: string) => a.startsWith('cognito-idp:') || a.startsWith('elasticloadbalancing:')));
    expect(cognito.length).toBeGreaterThan(0);
    for (const statement of cognito) for (const resource of statement.Resource) expect(resource).toMatch(/^arn:aws:(cognito-idp|elasticloadbalancing):\*:111122223333:(userpool|listener|listener-rule)\/app\/\*$|^arn:aws:cognito-idp:\*:111122223333:userpool\/\*$/);
  });
});
