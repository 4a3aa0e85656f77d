/**
 * Validation of the 5-field cron expressions KEDA's cron scaler takes
 * (minute hour day-of-month month day-of-week, as robfig/cron parses them):
 * `*`, numbers, ranges `a-b`, steps `x/n`, lists `a,b`, and month/day names.
 * The same rules are in charts/comfyui/values.schema.json as a pattern; this
 * version also checks the ranges and names the field that is wrong.
 */

const FIELDS = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day of month', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12, names: ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'] },
  { name: 'day of week', min: 0, max: 6, names: ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'] },
] as const;

/** The value of one cron atom (number or name), or undefined. */
function atomValue(atom: string, field: (typeof FIELDS)[number]): number | undefined {
  if (/^\d{1,2}$/.test(atom)) return Number(atom);
  const names: readonly string[] | undefined = 'names' in field ? field.names : undefined;
  const index = names?.indexOf(atom.toUpperCase()) ?? -1;
  if (index < 0) return undefined;
  return field.name === 'month' ? index + 1 : index;
}

/** Why a cron expression is not a valid 5-field expression, or undefined when it is. */
export function cronProblem(expression: string): string | undefined {
  const parts = expression.trim().split(/\s+/);
  if (parts.length !== 5) return `must be a 5-field cron expression (minute hour day-of-month month day-of-week) such as "0 8 * * 1-5", got "${expression}"`;
  for (let i = 0; i < 5; i += 1) {
    const field = FIELDS[i];
    for (const item of parts[i].split(',')) {
      const m = /^(\*|[A-Za-z0-9]+(?:-[A-Za-z0-9]+)?)(?:\/(\d{1,2}))?$/.exec(item);
      const bad = `has an invalid ${field.name} field "${parts[i]}" (${field.min}-${field.max}${'names' in field ? ' or names' : ''}, *, a-b, x/n, lists) in "${expression}"`;
      if (!m) return bad;
      if (m[2] !== undefined && Number(m[2]) < 1) return bad;
      if (m[1] === '*') continue;
      const [from, to] = m[1].split('-').map((a) => atomValue(a, field));
      const values = m[1].includes('-') ? [from, to] : [from];
      if (values.some((v) => v === undefined || v < field.min || v > field.max)) return bad;
      if (to !== undefined && from !== undefined && from > to) return bad;
    }
  }
  return undefined;
}

/** Whether a string is an IANA time zone this runtime knows (KEDA uses Go's tz database). */
export function isTimeZone(zone: string): boolean {
  if (!/^[A-Za-z_]+(\/[A-Za-z0-9_+-]+){0,2}$/.test(zone)) return false;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}
