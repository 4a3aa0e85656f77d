/**
 * Names for AWS resources with tight length limits (ALB and target group
 * names: 32 characters). `<prefix>-<suffix>` is used when it fits; otherwise
 * the prefix is shortened and a short hash of the full name keeps it unique
 * and stable between runs.
 */
import { createHash } from 'crypto';

/** `<prefix>-<suffix>`, shortened deterministically to at most `max` characters. */
export function boundedName(prefix: string, suffix: string, max: number): string {
  const full = `${prefix}-${suffix}`;
  if (full.length <= max) return full;
  const hash = createHash('sha256').update(full).digest('hex').slice(0, 6);
  const room = max - suffix.length - hash.length - 2;
  if (room < 1) throw new Error(`cannot fit a name for "${full}" into ${max} characters`);
  const head = prefix.slice(0, room).replace(/-+$/, '');
  return `${head}-${hash}-${suffix}`;
}
