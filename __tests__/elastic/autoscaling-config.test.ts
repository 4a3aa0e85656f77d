/**
 * Config of elastic serving (app.autoscaling, keda): defaults, and bad values
 * rejected with the field named.
 */
import { readFileSync } from 'fs';
import { join } from 'path';
import { defaultConfig, parseConfig } from '../../config';
import { cronProblem, isTimeZone } from '../../config/cron';

function errorsOf(input: unknown): string[] {
  const result = parseConfig(input);
  if (result.ok) throw new Error('expected the config to be rejected');
  return result.errors;
}

describe('defaults', () => {
  it('scale to zero with KEDA: mode keda, min 0, max 4, 30 idle minutes, 2 prompts per replica', () => {
    const { app, keda } = defaultConfig();
    expect(app.autoscaling).toEqual({ mode: 'keda', minReplicas: 0, maxReplicas: 4, idleMinutes: 30, targetQueuePerReplica: 2, pollingIntervalSeconds: 10, warmSchedules: [] });
    expect(keda).toEqual({ version: '2.21.1', namespace: 'keda', operatorServiceAccount: 'keda-operator' });
  });

  it('accepts warm windows in working hours', () => {
    const warm = { timezone: 'Europe/Berlin', start: '0 8 * * MON-FRI', end: '30 18 * * 1-5', minReplicas: 1 };
    const result = parseConfig({ app: { autoscaling: { warmSchedules: [warm] } } });
    expect(result.ok && result.config.app.autoscaling.warmSchedules).toEqual([warm]);
  });
});

describe('bad values name the field', () => {
  it.each([
    [{ app: { autoscaling: { minReplicas: 5, maxReplicas: 2 } } }, 'app.autoscaling.minReplicas: must be <= maxReplicas (2), got 5'],
    [{ app: { autoscaling: { idleMinutes: 0 } } }, 'app.autoscaling.idleMinutes: must be at least 1'],
    [{ app: { autoscaling: { mode: 'hpa' } } }, 'app.autoscaling.mode: must be one of "keda", "manual"'],
    [{ app: { autoscaling: { maxReplicas: 0 } } }, 'app.autoscaling.maxReplicas: must be at least 1'],
    [{ app: { autoscaling: { maxReplicas: 20 } } }, 'app.autoscaling.maxReplicas: must be <= karpenter.gpu.gpuLimit (16)'],
    [{ app: { autoscaling: { warmSchedules: [{ timezone: 'UTC', start: '0 8 * *', end: '0 18 * * *' }] } } }, 'app.autoscaling.warmSchedules.0.start: must be a 5-field cron expression'],
    [{ app: { autoscaling: { warmSchedules: [{ timezone: 'UTC', start: '0 8 * * *', end: '0 25 * * *' }] } } }, 'app.autoscaling.warmSchedules.0.end: has an invalid hour field "25"'],
    [{ app: { autoscaling: { warmSchedules: [{ timezone: 'Mars/Olympus', start: '0 8 * * *', end: '0 18 * * *' }] } } }, 'app.autoscaling.warmSchedules.0.timezone: must be an IANA time zone'],
    [{ app: { autoscaling: { maxReplicas: 2, warmSchedules: [{ timezone: 'UTC', start: '0 8 * * *', end: '0 18 * * *', minReplicas: 3 }] } } }, 'app.autoscaling.warmSchedules.0.minReplicas: must be <= maxReplicas (2), got 3'],
    [{ keda: { version: 'latest' } }, 'keda.version: must be a pinned version'],
  ])('%j -> %s', (input, expected) => {
    expect(errorsOf(input).join('\n')).toContain(expected);
  });

  it('manual mode does not bound maxReplicas by the GPU limit (KEDA is not used)', () => {
    expect(parseConfig({ app: { autoscaling: { mode: 'manual', maxReplicas: 20 } } }).ok).toBe(true);
  });
});

describe('cron expressions (KEDA cron scaler, 5 fields)', () => {
  it.each(['0 8 * * 1-5', '*/15 * * * *', '0 8,12 1-15 JAN-MAR SUN', '0 0 * * 0', '59 23 31 12 6'])('accepts %s', (expr) => {
    expect(cronProblem(expr)).toBeUndefined();
  });
  it.each([
    ['0 8 * *', /5-field/],
    ['0 8 * * * *', /5-field/],
    ['60 8 * * *', /invalid minute field "60"/],
    ['0 8 0 * *', /invalid day of month field "0"/],
    ['0 8 * 13 *', /invalid month field "13"/],
    ['0 8 * * 7', /invalid day of week field "7"/],
    ['0 8 * * MOON', /invalid day of week field/],
    ['0 18-8 * * *', /invalid hour field/],
    ['*/0 * * * *', /invalid minute field/],
    ['0 8 * * 1;rm', /invalid day of week field/],
  ])('rejects %s', (expr, message) => {
    expect(cronProblem(expr)).toMatch(message);
  });
  it('knows time zones', () => {
    expect(isTimeZone('America/New_York')).toBe(true);
    expect(isTimeZone('UTC')).toBe(true);
    expect(isTimeZone('Not/AZone')).toBe(false);
    expect(isTimeZone('../etc/passwd')).toBe(false);
  });
});

describe('KEDA version pin', () => {
  it('the installer fetches the CRDs of the same KEDA version the cluster-addons stack installs', () => {
    const script = readFileSync(join(__dirname, '../../scripts/install-tools.sh'), 'utf8');
    expect(script).toContain(`KEDA_VERSION=${defaultConfig().keda.version}\n`);
    expect(script).toMatch(/groups=\(node go python apt crds schemas keda[ )]/);
  });
});
