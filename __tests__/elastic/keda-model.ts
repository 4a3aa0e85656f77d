/**
 * A model of how KEDA drives a ScaledObject, enough to test the scale-to-zero
 * guard and the queue-depth scale-out on the object the chart renders:
 *
 * - every pollingInterval, each trigger reads a value; a trigger is active
 *   when its value exceeds its activation threshold (KEDA's
 *   activation*: 0 means "any value above 0");
 * - while any trigger is active the replica count is at least 1, and the HPA
 *   part asks for max over triggers of ceil(value / target), clamped to
 *   [minReplicaCount or 1, maxReplicaCount];
 * - when no trigger has been active for cooldownPeriod, KEDA scales to
 *   minReplicaCount (0).
 *
 * Cron triggers are active inside their window (given as a boolean sample)
 * and ask for desiredReplicas. The HPA's stabilisation windows are left out:
 * they only slow scale-in between non-zero counts.
 */
import { K8sObject } from '../chart/helm';

/** What each trigger reads at one poll, by trigger name. */
export type Sample = Record<string, number | boolean>;

function target(trigger: any): number {
  const m = trigger.metadata;
  if (trigger.type === 'aws-sqs-queue') return Number(m.queueLength);
  if (trigger.type === 'aws-cloudwatch') return Number(m.targetMetricValue);
  if (trigger.type === 'cron') return Number(m.desiredReplicas);
  throw new Error(`no model for trigger type ${trigger.type}`);
}

function activation(trigger: any): number {
  const m = trigger.metadata;
  if (trigger.type === 'aws-sqs-queue') return Number(m.activationQueueLength ?? 0);
  if (trigger.type === 'aws-cloudwatch') return Number(m.activationTargetMetricValue ?? 0);
  return 0;
}

/** Replays samples (one per pollingInterval) and returns the replica count after each. */
export function simulate(scaledObject: K8sObject, samples: readonly Sample[], initialReplicas = 1): number[] {
  const spec = scaledObject.spec;
  const poll = spec.pollingInterval as number;
  const cooldown = spec.cooldownPeriod as number;
  const min = spec.minReplicaCount as number;
  const max = spec.maxReplicaCount as number;
  let replicas = initialReplicas;
  let lastActive = 0;
  const out: number[] = [];
  samples.forEach((sample, i) => {
    const now = i * poll;
    let desired = 0;
    let active = false;
    for (const trigger of spec.triggers) {
      const value = sample[trigger.name] ?? 0;
      if (trigger.type === 'cron') {
        if (value === true) {
          active = true;
          desired = Math.max(desired, target(trigger));
        }
        continue;
      }
      const n = Number(value);
      if (n > activation(trigger)) active = true;
      desired = Math.max(desired, Math.ceil(n / target(trigger)));
    }
    if (active) {
      lastActive = now;
      replicas = Math.min(max, Math.max(desired, min, 1));
    } else if (replicas > 0 && now - lastActive >= cooldown) {
      replicas = min;
    } else if (replicas > 0) {
      replicas = Math.min(max, Math.max(min, 1, Math.min(replicas, desired || 1)));
    }
    out.push(replicas);
  });
  return out;
}

/** `count` samples of the same values. */
export function repeat(sample: Sample, count: number): Sample[] {
  return Array.from({ length: count }, () => ({ ...sample }));
}
