import { parseConfig } from '../../config';
import { eligibleGpuInstanceTypes } from '../../config/gpu-instance-types';
import { testConfig } from '../helpers/config';

const errorsFor = (input: object) => {
  const result = parseConfig(input as never);
  return result.ok ? [] : result.errors;
};

describe('observability config', () => {
  it('is on by default, with every type the default NodePools may launch priced', () => {
    const config = testConfig();
    expect(eligibleGpuInstanceTypes(config.karpenter.gpu).filter((t) => config.observability.gpuPrices[t.type] === undefined)).toEqual([]);
    expect(config.observability.enabled).toBe(true);
    expect(config.observability.alarms).toEqual({ nodeNotReadyMinutes: 15, idleGpuMinutes: 60, edge5xxRatePercent: 5, edge5xxMinRequests: 20, spotInterruptionsPer15Minutes: 3 });
    expect(config.observability.gpuPrices['g6e.xlarge'].onDemand).toBeGreaterThan(0);
  });

  it.each([
    [{ observability: { alarmEmails: ['not-an-address'] } }, 'observability.alarmEmails.0: must be an email address'],
    [{ observability: { alarms: { idleGpuMinutes: 62 } } }, 'observability.alarms.idleGpuMinutes: must be a multiple of 5'],
    [{ observability: { alarms: { nodeNotReadyMinutes: 0 } } }, 'observability.alarms.nodeNotReadyMinutes:'],
    [{ observability: { alarms: { edge5xxRatePercent: 0 } } }, 'observability.alarms.edge5xxRatePercent: must be above 0'],
    [{ observability: { spotPriceRatio: 1.2 } }, 'observability.spotPriceRatio: must be at most 1'],
    [{ observability: { gpuPrices: { 'g6.xlarge': { onDemand: -1 } } } }, 'observability.gpuPrices.g6.xlarge.onDemand: must be a positive price'],
    [{ observability: { gpuPrices: { G6: { onDemand: 1 } } } }, 'observability.gpuPrices.G6: must be keyed by EC2 instance type'],
    [{ observability: { gpuMetrics: { addonVersion: 'latest' } } }, 'observability.gpuMetrics.addonVersion: must be a pinned EKS add-on version'],
    [{ observability: { dashboards: true } }, 'observability.dashboards: unknown key'],
  ])('rejects %j naming the field', (input, message) => {
    const errors = errorsFor(input);
    expect(errors.join('\n')).toContain(message);
  });

  it('accepts a partial price table and both DCGM exporters (the stack warns instead)', () => {
    expect(errorsFor({ karpenter: { dcgmExporter: { enabled: true } }, observability: { gpuPrices: { 'g6.xlarge': { onDemand: 1 } } } })).toEqual([]);
  });
});
