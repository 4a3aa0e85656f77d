/**
 * IAM: no wildcard actions, no `"*"` resource where the action can be scoped,
 * no over-broad AWS managed policy, and every policy readable by these checks.
 *
 * Policies are read from aws_iam_policy_document data sources and from the
 * policy arguments of IAM and resource-policy resources (JSON strings or
 * Fn.jsonencode). Deny statements are never findings: a wildcard there only
 * narrows access. How `"*"` is judged depends on where the policy is used:
 * - identity policies (roles, users, groups, managed policies): both checks;
 * - resource policies (KMS key, bucket, queue, ...): the resource is implied
 *   (`"*"` in a key policy means "this key"), so only actions are checked,
 *   and a statement whose only principal is this account's root is the
 *   standard delegation to IAM (the AWS default key policy) and is exempt;
 * - trust policies: only actions are checked.
 */
import { OVERBROAD_MANAGED_POLICIES, UNSCOPED_ACTIONS } from './allow-lists';
import { documentKinds, documentStatements, PolicyKind, PolicyStatement, policyUses, readPolicy } from './policy-document';
import { PolicyFinding, PolicyRule } from './rule';
import { ElementView, StackView, strings } from './stack-view';
import { IConstruct } from 'constructs';

/** Every policy in the stack with its statements, the construct to report on, and its kind. */
interface CheckedPolicy {
  readonly construct: IConstruct;
  readonly what: string;
  readonly kind: PolicyKind;
  readonly statements: PolicyStatement[];
}

function checkedPolicies(view: StackView): { policies: CheckedPolicy[]; unreadable: PolicyFinding[] } {
  const kinds = documentKinds(view);
  const policies: CheckedPolicy[] = view.dataSourcesOfType('aws_iam_policy_document').map((d) => ({
    construct: d.construct,
    what: `policy document (used as ${kinds.get(d.address)} policy)`,
    kind: kinds.get(d.address) ?? 'identity',
    statements: documentStatements(d),
  }));
  const unreadable: PolicyFinding[] = [];
  for (const use of policyUses(view)) {
    const read = readPolicy(view, use.value);
    if (read.kind === 'statements') {
      policies.push({ construct: use.holder.construct, what: `${use.holder.type} ${use.argument} (${use.kind} policy)`, kind: use.kind, statements: read.statements });
    } else if (read.kind === 'unreadable') {
      unreadable.push({
        construct: use.holder.construct,
        message: `${use.holder.type} ${use.argument} cannot be checked because ${read.reason}: build it with an aws_iam_policy_document (DataAwsIamPolicyDocument), JSON.stringify or Fn.jsonencode of a literal`,
      });
    }
  }
  return { policies, unreadable };
}

function label(statement: PolicyStatement, index: number): string {
  return statement.sid ? `statement ${statement.sid}` : `statement ${index + 1}`;
}

function isWildcardAction(action: string): boolean {
  return action === '*' || /^[a-z0-9-]+:\*$/i.test(action);
}

/** `arn:<partition>:iam::<this account>:root`, with the account taken from aws_caller_identity. */
function isOwnAccountRoot(principal: string): boolean {
  return /^arn:(aws[a-z-]*|\$\{data\.aws_partition\.[A-Za-z0-9_-]+\.partition\}):iam::\$\{data\.aws_caller_identity\.[A-Za-z0-9_-]+\.account_id\}:root$/.test(principal);
}

function globToRegExp(pattern: string): RegExp {
  return new RegExp(`^${pattern.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`, 'i');
}

const UNSCOPED = UNSCOPED_ACTIONS.map((a) => globToRegExp(a.pattern));

/** True when the action (itself possibly a pattern) only ever names actions that accept nothing but `*`. */
export function isUnscopedAction(action: string): boolean {
  return UNSCOPED.some((re) => re.test(action));
}

/** Tag conditions (ABAC) scope a statement's resources even when it says `*`. */
function isTagScoped(statement: PolicyStatement): boolean {
  return statement.conditions.some((c) => /(^aws:|^[a-z0-9-]+:)(ResourceTag|RequestTag)\//i.test(c.variable) && c.test !== 'Null');
}

export class IamWildcardActionRule implements PolicyRule {
  public readonly id = 'COMFY-IAM-001';
  public readonly summary = 'No Allow statement grants "*" or "<service>:*" actions, or uses NotAction (the AWS default key policy delegating to this account is exempt).';

  public check(view: StackView): PolicyFinding[] {
    const findings: PolicyFinding[] = [];
    for (const policy of checkedPolicies(view).policies) {
      policy.statements.forEach((statement, i) => {
        if (statement.effect !== 'Allow') return;
        if (policy.kind === 'resource' && statement.principals.length > 0 && statement.principals.every(isOwnAccountRoot)) return;
        const wildcards = statement.actions.filter(isWildcardAction);
        if (wildcards.length > 0) {
          findings.push({ construct: policy.construct, message: `${policy.what} ${label(statement, i)} allows wildcard action(s) ${wildcards.join(', ')}: list the actions it needs` });
        }
        if (statement.notActions.length > 0) {
          findings.push({ construct: policy.construct, message: `${policy.what} ${label(statement, i)} allows everything except ${statement.notActions.join(', ')} (NotAction): list the actions it needs` });
        }
      });
    }
    return findings;
  }
}

/** `arn:<partition>:<service>:<region>:<account>:*`: every resource of a service in the account (any resource type). */
export function isAccountWideArn(resource: string): boolean {
  const parts = resource.split(':');
  return parts[0] === 'arn' && parts.length >= 6 && parts.slice(5).join(':') === '*';
}

/** Describe/Get/List calls read; everything else may change something. */
function isMutatingAction(action: string): boolean {
  return !/^[a-z0-9-]+:(Describe|Get|List)/i.test(action);
}

export class IamWildcardResourceRule implements PolicyRule {
  public readonly id = 'COMFY-IAM-002';
  public readonly summary =
    'No identity-policy Allow statement uses "Resource": "*" for an action that supports resource scoping (see UNSCOPED_ACTIONS), nor an account-wide ARN wildcard (arn:…:<service>:<region>:<account>:*) for a mutating action, unless a ResourceTag/RequestTag condition scopes it.';

  public check(view: StackView): PolicyFinding[] {
    const findings: PolicyFinding[] = [];
    for (const policy of checkedPolicies(view).policies) {
      if (policy.kind !== 'identity') continue;
      policy.statements.forEach((statement, i) => {
        if (statement.effect !== 'Allow' || isTagScoped(statement)) return;
        if (statement.resources.includes('*')) {
          const scopable = statement.actions.filter((a) => !isUnscopedAction(a) && !isWildcardAction(a));
          if (scopable.length > 0) {
            findings.push({
              construct: policy.construct,
              message: `${policy.what} ${label(statement, i)} grants ${scopable.join(', ')} on "*": name the resource ARNs (or add a tag condition); actions that accept only "*" are listed in UNSCOPED_ACTIONS`,
            });
          }
        }
        const accountWide = statement.resources.filter(isAccountWideArn);
        const mutating = statement.actions.filter(isMutatingAction);
        if (accountWide.length > 0 && mutating.length > 0) {
          findings.push({
            construct: policy.construct,
            message: `${policy.what} ${label(statement, i)} grants ${mutating.join(', ')} on every resource of the account (${accountWide.join(', ')}): name the resource types and names (or add a tag condition)`,
          });
        }
      });
    }
    return findings;
  }
}

export class IamOverbroadManagedPolicyRule implements PolicyRule {
  public readonly id = 'COMFY-IAM-003';
  public readonly summary = 'No role, user or group gets AdministratorAccess, PowerUserAccess, IAMFullAccess or any *FullAccess AWS managed policy.';

  public check(view: StackView): PolicyFinding[] {
    const findings: PolicyFinding[] = [];
    const report = (element: ElementView, arn: string) =>
      findings.push({ construct: element.construct, message: `attaches the AWS managed policy ${arn}, which grants whole services: write a policy with the actions and resources needed` });
    for (const type of ['aws_iam_role_policy_attachment', 'aws_iam_user_policy_attachment', 'aws_iam_group_policy_attachment', 'aws_iam_policy_attachment']) {
      for (const attachment of view.resourcesOfType(type)) {
        for (const arn of strings(attachment.attributes.policy_arn)) if (OVERBROAD_MANAGED_POLICIES.test(arn)) report(attachment, arn);
      }
    }
    for (const role of view.resourcesOfType('aws_iam_role')) {
      for (const arn of strings(role.attributes.managed_policy_arns)) if (OVERBROAD_MANAGED_POLICIES.test(arn)) report(role, arn);
    }
    return findings;
  }
}

export class IamReadablePolicyRule implements PolicyRule {
  public readonly id = 'COMFY-IAM-004';
  public readonly summary = 'Every policy argument is readable by the checks above (an aws_iam_policy_document, JSON, or jsonencode of a literal).';

  public check(view: StackView): PolicyFinding[] {
    return checkedPolicies(view).unreadable;
  }
}
