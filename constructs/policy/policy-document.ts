/**
 * IAM policy statements in one normalised shape, whichever way the policy
 * was written: an `aws_iam_policy_document` data source, a JSON string
 * (`JSON.stringify`), or `Fn.jsonencode(...)`. Also classifies where a policy
 * is used (identity, trust or resource policy), since `"*"` means different
 * things in each.
 */
import { parseJsonencode } from './hcl-expression';
import { Attributes, blocks, ElementView, StackView, strings } from './stack-view';

/** A condition of a statement. */
export interface StatementCondition {
  /** Operator, e.g. `StringEquals`. */
  readonly test: string;
  /** Condition key, e.g. `aws:ResourceTag/Project`. */
  readonly variable: string;
  /** Values. */
  readonly values: string[];
}

/** One statement, normalised. */
export interface PolicyStatement {
  /** Statement id, if any. */
  readonly sid?: string;
  /** `Allow` or `Deny`. */
  readonly effect: 'Allow' | 'Deny';
  /** Action patterns. */
  readonly actions: string[];
  /** NotAction patterns. */
  readonly notActions: string[];
  /** Resource patterns. */
  readonly resources: string[];
  /** NotResource patterns. */
  readonly notResources: string[];
  /** Every principal identifier, `*` for a bare `"Principal": "*"`. */
  readonly principals: string[];
  /** Conditions. */
  readonly conditions: StatementCondition[];
}

/** Where a policy takes effect. */
export type PolicyKind = 'identity' | 'trust' | 'resource';

/** The outcome of reading a policy argument. */
export type ReadPolicy =
  | { readonly kind: 'statements'; readonly statements: PolicyStatement[] }
  | { readonly kind: 'document'; readonly document: ElementView }
  | { readonly kind: 'unreadable'; readonly reason: string };

const POLICY_DOCUMENT_REF = /^\$\{data\.aws_iam_policy_document\.([A-Za-z0-9_-]+)\.(json|minified_json)\}$/;

/** Statements of an `aws_iam_policy_document` data source. */
export function documentStatements(document: ElementView): PolicyStatement[] {
  return blocks(document.attributes.statement).map((s) => ({
    sid: typeof s.sid === 'string' ? s.sid : undefined,
    effect: s.effect === 'Deny' ? 'Deny' : 'Allow',
    actions: strings(s.actions),
    notActions: strings(s.not_actions),
    resources: strings(s.resources),
    notResources: strings(s.not_resources),
    principals: blocks(s.principals).flatMap((p) => strings(p.identifiers)),
    conditions: blocks(s.condition).map((c) => ({ test: String(c.test ?? ''), variable: String(c.variable ?? ''), values: strings(c.values) })),
  }));
}

function principalIds(principal: unknown): string[] {
  if (principal === undefined || principal === null) return [];
  if (typeof principal === 'string') return [principal];
  if (typeof principal === 'object') return Object.values(principal as Record<string, unknown>).flatMap((v) => strings(v));
  return [];
}

function jsonStatements(policy: unknown): PolicyStatement[] | string {
  if (typeof policy !== 'object' || policy === null || Array.isArray(policy)) return 'the policy is not a JSON object';
  const raw = (policy as Attributes).Statement;
  const list = Array.isArray(raw) ? raw : raw === undefined ? [] : [raw];
  const statements: PolicyStatement[] = [];
  for (const s of list) {
    if (typeof s !== 'object' || s === null) return 'a statement is not an object';
    const st = s as Attributes;
    const conditions: StatementCondition[] = [];
    for (const [test, byKey] of Object.entries((st.Condition as Record<string, Record<string, unknown>> | undefined) ?? {})) {
      for (const [variable, values] of Object.entries(byKey ?? {})) conditions.push({ test, variable, values: strings(values) });
    }
    statements.push({
      sid: typeof st.Sid === 'string' ? st.Sid : undefined,
      effect: st.Effect === 'Deny' ? 'Deny' : 'Allow',
      actions: strings(st.Action),
      notActions: strings(st.NotAction),
      resources: strings(st.Resource),
      notResources: strings(st.NotResource),
      principals: principalIds(st.Principal),
      conditions,
    });
  }
  return statements;
}

/** Reads a policy argument (a resolved string) into statements, a referenced document, or a reason it cannot be read. */
export function readPolicy(view: StackView, value: unknown): ReadPolicy {
  if (typeof value !== 'string') return { kind: 'unreadable', reason: 'the policy is not a string' };
  const ref = POLICY_DOCUMENT_REF.exec(value.trim());
  if (ref) {
    const document = view.dataSources.find((d) => d.type === 'aws_iam_policy_document' && d.name === ref[1]);
    return document ? { kind: 'document', document } : { kind: 'unreadable', reason: `it refers to ${ref[0]}, which is not in this stack` };
  }
  let parsed: unknown;
  try {
    parsed = value.trim().startsWith('${jsonencode(') ? parseJsonencode(value) : JSON.parse(value);
  } catch (e) {
    return { kind: 'unreadable', reason: `it is neither JSON nor a jsonencode() of a literal (${(e as Error).message})` };
  }
  if (parsed === undefined) return { kind: 'unreadable', reason: 'it is an expression the policy check cannot read' };
  const statements = jsonStatements(parsed);
  return typeof statements === 'string' ? { kind: 'unreadable', reason: statements } : { kind: 'statements', statements };
}

/** Where a policy argument of a resource takes effect. */
export interface PolicyUse {
  /** The resource holding the policy. */
  readonly holder: ElementView;
  /** Argument path, e.g. `policy` or `inline_policy[0].policy`. */
  readonly argument: string;
  /** The resolved policy value. */
  readonly value: unknown;
  /** What kind of policy it is. */
  readonly kind: PolicyKind;
}

/** Arguments that hold identity policies, by resource type. */
const IDENTITY_POLICY_ARGUMENTS: Readonly<Record<string, readonly string[]>> = {
  aws_iam_policy: ['policy'],
  aws_iam_role_policy: ['policy'],
  aws_iam_user_policy: ['policy'],
  aws_iam_group_policy: ['policy'],
};

/** Arguments that hold resource-based policies, by resource type. */
const RESOURCE_POLICY_ARGUMENTS: Readonly<Record<string, readonly string[]>> = {
  aws_kms_key: ['policy'],
  aws_s3_bucket: ['policy'],
  aws_s3_bucket_policy: ['policy'],
  aws_sqs_queue: ['policy'],
  aws_sqs_queue_policy: ['policy'],
  aws_sns_topic: ['policy'],
  aws_sns_topic_policy: ['policy'],
  aws_ecr_repository_policy: ['policy'],
  aws_cloudwatch_log_resource_policy: ['policy_document'],
  aws_secretsmanager_secret_policy: ['policy'],
};

/** Every policy argument in the stack, classified. */
export function policyUses(view: StackView): PolicyUse[] {
  const uses: PolicyUse[] = [];
  for (const r of view.resources) {
    for (const argument of IDENTITY_POLICY_ARGUMENTS[r.type] ?? []) {
      if (r.attributes[argument] !== undefined) uses.push({ holder: r, argument, value: r.attributes[argument], kind: 'identity' });
    }
    for (const argument of RESOURCE_POLICY_ARGUMENTS[r.type] ?? []) {
      if (r.attributes[argument] !== undefined) uses.push({ holder: r, argument, value: r.attributes[argument], kind: 'resource' });
    }
    if (r.type === 'aws_iam_role') {
      if (r.attributes.assume_role_policy !== undefined) uses.push({ holder: r, argument: 'assume_role_policy', value: r.attributes.assume_role_policy, kind: 'trust' });
      blocks(r.attributes.inline_policy).forEach((p, i) => {
        if (p.policy !== undefined) uses.push({ holder: r, argument: `inline_policy[${i}].policy`, value: p.policy, kind: 'identity' });
      });
    }
  }
  return uses;
}

/**
 * How each `aws_iam_policy_document` is used, by its address. A document used
 * in several places is judged by the strictest use (identity before resource
 * before trust); one not used in this stack (e.g. handed to another stack) is
 * judged as an identity policy.
 */
export function documentKinds(view: StackView): Map<string, PolicyKind> {
  const strictness: PolicyKind[] = ['trust', 'resource', 'identity'];
  const kinds = new Map<string, PolicyKind>();
  const mark = (document: ElementView, kind: PolicyKind) => {
    const current = kinds.get(document.address);
    if (!current || strictness.indexOf(kind) > strictness.indexOf(current)) kinds.set(document.address, kind);
  };
  for (const use of policyUses(view)) {
    const read = readPolicy(view, use.value);
    if (read.kind === 'document') mark(read.document, use.kind);
  }
  const documents = view.dataSourcesOfType('aws_iam_policy_document');
  // Documents merged into another (source/override_policy_documents) inherit its use.
  for (let changed = true; changed; ) {
    changed = false;
    for (const parent of documents) {
      const parentKind = kinds.get(parent.address);
      if (!parentKind) continue;
      for (const merged of [...strings(parent.attributes.source_policy_documents), ...strings(parent.attributes.override_policy_documents)]) {
        const read = readPolicy(view, merged);
        if (read.kind !== 'document') continue;
        const before = kinds.get(read.document.address);
        mark(read.document, parentKind);
        if (kinds.get(read.document.address) !== before) changed = true;
      }
    }
  }
  for (const d of documents) if (!kinds.has(d.address)) kinds.set(d.address, 'identity');
  return kinds;
}
