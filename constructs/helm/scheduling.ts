/**
 * Helm values that pin a controller to the system node group: its label as
 * nodeSelector, its taint tolerated. GPU nodes carry neither, so controllers
 * never take GPU capacity and never go away with a Spot node.
 */
import { SYSTEM_NODE_LABEL, SYSTEM_NODE_TOLERATION } from '../../config';

/** A pod toleration as Helm charts take it. */
export interface Toleration {
  readonly key: string;
  readonly operator: 'Equal' | 'Exists';
  readonly value?: string;
  readonly effect?: 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute';
}

/** nodeSelector and tolerations for the system node group. */
export function systemNodeScheduling(): { nodeSelector: Record<string, string>; tolerations: Toleration[] } {
  return {
    nodeSelector: { 'kubernetes.io/os': 'linux', [SYSTEM_NODE_LABEL.key]: SYSTEM_NODE_LABEL.value },
    tolerations: [{ ...SYSTEM_NODE_TOLERATION }],
  };
}

/** Defaults for every helm_release of the platform: roll back a failed install or upgrade, keep little history. */
export const RELEASE_DEFAULTS = { atomic: true, cleanupOnFail: true, wait: true, timeout: 600, maxHistory: 10 } as const;
