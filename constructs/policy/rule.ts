/**
 * What a synth-time policy rule is, how its findings are worded, and how a
 * construct acknowledges a finding it cannot avoid (with a written reason).
 */
import { IConstruct } from 'constructs';
import { StackView } from './stack-view';

/** One violation: the construct to report on and what is wrong. */
export interface PolicyFinding {
  /** The construct the error annotation is added to (its path is printed). */
  readonly construct: IConstruct;
  /** What is wrong and how to fix it, without the rule id or the path. */
  readonly message: string;
}

/** A rule checked against every stack at synth. */
export interface PolicyRule {
  /** Stable id, `COMFY-<AREA>-<NNN>`, printed in every finding and used to acknowledge one. */
  readonly id: string;
  /** One line saying what the rule requires (docs/security.md lists them). */
  readonly summary: string;
  /** Returns every violation in the stack. */
  check(view: StackView): PolicyFinding[];
}

/** Rule ids look like COMFY-S3-001. */
export const RULE_ID = /^COMFY-[A-Z0-9]+-\d{3}$/;

/** The error text: `[RULE] message at stack/path/to/construct`. */
export function formatFinding(ruleId: string, finding: PolicyFinding): string {
  return `[${ruleId}] ${finding.message} at ${finding.construct.node.path}`;
}

const ACKNOWLEDGEMENT = 'comfyui:policy-acknowledgement';
/** Short reasons ("needed", "legacy") explain nothing to a reviewer. */
const MIN_REASON_LENGTH = 20;

interface Acknowledgement {
  readonly ruleId: string;
  readonly reason: string;
}

/**
 * Accepts findings of one rule on `scope` and everything below it. The reason
 * is printed as an info annotation at every synth, so acknowledgements stay
 * visible in review. Use it only when the finding cannot be fixed (for example
 * an AWS-published controller policy), never to silence a real defect.
 */
export function acknowledgePolicyFinding(scope: IConstruct, ruleId: string, reason: string): void {
  if (!RULE_ID.test(ruleId)) {
    throw new Error(`acknowledgePolicyFinding at ${scope.node.path}: ruleId must look like COMFY-S3-001, got ${JSON.stringify(ruleId)}`);
  }
  if (reason.trim().length < MIN_REASON_LENGTH) {
    throw new Error(`acknowledgePolicyFinding(${ruleId}) at ${scope.node.path}: reason must explain why in at least ${MIN_REASON_LENGTH} characters, got ${JSON.stringify(reason)}`);
  }
  scope.node.addMetadata(ACKNOWLEDGEMENT, { ruleId, reason: reason.trim() } satisfies Acknowledgement);
}

/** The reason a finding of `ruleId` on `construct` is acknowledged (on it or an ancestor), if it is. */
export function acknowledgementFor(construct: IConstruct, ruleId: string): string | undefined {
  for (const scope of [...construct.node.scopes].reverse()) {
    for (const entry of scope.node.metadata) {
      const ack = entry.data as Acknowledgement | undefined;
      if (entry.type === ACKNOWLEDGEMENT && ack?.ruleId === ruleId) return ack.reason;
    }
  }
  return undefined;
}
