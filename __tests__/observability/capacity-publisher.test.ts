import { PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { DescribeInstancesCommand } from '@aws-sdk/client-ec2';
import { CapacityClients, publishCapacity } from '../../lambdas/capacity-metrics/handler';
import { ENV, hourlyPrice, parsePriceTable, summarise } from '../../lambdas/capacity-metrics/summary';

const TABLE = { prices: { 'g6.xlarge': { onDemand: 0.8 }, 'g5.xlarge': { onDemand: 1.0, spot: 0.3 } }, spotPriceRatio: 0.4 };
const NOW = new Date('2026-12-06T12:00:00Z');
const cluster = { Name: 'ClusterName', Value: 'comfyui-dev' };

describe('capacity publisher: summary', () => {
  it('prices On-Demand from the table, Spot from its own price or the ratio', () => {
    expect(hourlyPrice({ instanceType: 'g6.xlarge', capacityType: 'on-demand' }, TABLE)).toBe(0.8);
    expect(hourlyPrice({ instanceType: 'g6.xlarge', capacityType: 'spot' }, TABLE)).toBeCloseTo(0.32);
    expect(hourlyPrice({ instanceType: 'g5.xlarge', capacityType: 'spot' }, TABLE)).toBe(0.3);
    expect(hourlyPrice({ instanceType: 'p5.48xlarge', capacityType: 'spot' }, TABLE)).toBeUndefined();
  });

  it('publishes totals, the estimate and one series per capacity/instance type present', () => {
    const datums = summarise(
      'comfyui-dev',
      [
        { instanceId: 'i-1', instanceType: 'g6.xlarge', capacityType: 'spot' },
        { instanceId: 'i-2', instanceType: 'g6.xlarge', capacityType: 'spot' },
        { instanceId: 'i-3', instanceType: 'g5.xlarge', capacityType: 'on-demand' },
        { instanceId: 'i-4', instanceType: 'p5.48xlarge', capacityType: 'on-demand' },
      ],
      TABLE,
      NOW,
    );
    expect(datums).toEqual([
      { MetricName: 'GpuNodes', Dimensions: [cluster], Value: 4, Unit: 'Count', Timestamp: NOW },
      { MetricName: 'EstimatedGpuSpendUsdPerHour', Dimensions: [cluster], Value: 1.64, Unit: 'None', Timestamp: NOW },
      { MetricName: 'UnpricedGpuNodes', Dimensions: [cluster], Value: 1, Unit: 'Count', Timestamp: NOW },
      { MetricName: 'GpuNodes', Dimensions: [cluster, { Name: 'CapacityType', Value: 'on-demand' }, { Name: 'InstanceType', Value: 'g5.xlarge' }], Value: 1, Unit: 'Count', Timestamp: NOW },
      { MetricName: 'GpuNodes', Dimensions: [cluster, { Name: 'CapacityType', Value: 'on-demand' }, { Name: 'InstanceType', Value: 'p5.48xlarge' }], Value: 1, Unit: 'Count', Timestamp: NOW },
      { MetricName: 'GpuNodes', Dimensions: [cluster, { Name: 'CapacityType', Value: 'spot' }, { Name: 'InstanceType', Value: 'g6.xlarge' }], Value: 2, Unit: 'Count', Timestamp: NOW },
    ]);
  });

  it('publishes zeros when no GPU node runs, so the idle alarm sees 0 rather than nothing', () => {
    expect(summarise('comfyui-dev', [], TABLE, NOW).map((d) => [d.MetricName, d.Value])).toEqual([
      ['GpuNodes', 0],
      ['EstimatedGpuSpendUsdPerHour', 0],
      ['UnpricedGpuNodes', 0],
    ]);
  });

  it.each([
    [undefined, '0.4', 'GPU_PRICES is not set'],
    ['{', '0.4', 'GPU_PRICES is not JSON'],
    ['[]', '0.4', 'GPU_PRICES must be an object'],
    ['{"g6.xlarge":{"onDemand":-1}}', '0.4', 'GPU_PRICES.g6.xlarge.onDemand must be a positive number'],
    ['{"g6.xlarge":{"onDemand":1,"spot":"cheap"}}', '0.4', 'GPU_PRICES.g6.xlarge.spot must be a positive number'],
    ['{}', '1.5', 'SPOT_PRICE_RATIO must be a number in (0, 1]'],
  ])('rejects a bad price table (%s, %s) naming the variable', (prices, ratio, message) => {
    expect(() => parsePriceTable(prices, ratio)).toThrow(message);
  });
});

describe('capacity publisher: handler', () => {
  const env = { [ENV.clusterName]: 'comfyui-dev', [ENV.tagKey]: 'comfyui-model-sync', [ENV.tagValue]: 'comfyui-dev', [ENV.prices]: JSON.stringify(TABLE.prices), [ENV.spotPriceRatio]: '0.4' };

  function stubClients(pages: { Reservations: { Instances: object[] }[]; NextToken?: string }[]) {
    const describeCalls: DescribeInstancesCommand[] = [];
    const putCalls: PutMetricDataCommand[] = [];
    const clients: CapacityClients = {
      ec2: { send: async (command) => (describeCalls.push(command), pages[describeCalls.length - 1] as never) },
      cloudwatch: { send: async (command) => (putCalls.push(command), {}) },
    };
    return { clients, describeCalls, putCalls };
  }

  beforeEach(() => jest.spyOn(process.stdout, 'write').mockImplementation(() => true));
  afterEach(() => jest.restoreAllMocks());

  it('lists this cluster’s pending and running GPU instances across pages and publishes to ComfyUI/Capacity', async () => {
    const { clients, describeCalls, putCalls } = stubClients([
      { Reservations: [{ Instances: [{ InstanceId: 'i-1', InstanceType: 'g6.xlarge', InstanceLifecycle: 'spot' }] }], NextToken: 'next' },
      { Reservations: [{ Instances: [{ InstanceId: 'i-2', InstanceType: 'g5.xlarge' }] }] },
    ]);
    const result = await publishCapacity(env, clients, NOW);
    expect(result).toEqual({ gpuNodes: 2, datums: 5 });
    expect(describeCalls.map((c) => c.input)).toEqual([
      { Filters: [{ Name: 'tag:comfyui-model-sync', Values: ['comfyui-dev'] }, { Name: 'instance-state-name', Values: ['pending', 'running'] }], MaxResults: 1000, NextToken: undefined },
      { Filters: [{ Name: 'tag:comfyui-model-sync', Values: ['comfyui-dev'] }, { Name: 'instance-state-name', Values: ['pending', 'running'] }], MaxResults: 1000, NextToken: 'next' },
    ]);
    expect(putCalls).toHaveLength(1);
    expect(putCalls[0].input.Namespace).toBe('ComfyUI/Capacity');
    const spend = putCalls[0].input.MetricData!.find((d) => d.MetricName === 'EstimatedGpuSpendUsdPerHour');
    expect(spend!.Value).toBeCloseTo(0.32 + 1.0);
  });

  it('splits more than 1000 data points over several PutMetricData calls', async () => {
    const instances = Array.from({ length: 1200 }, (_, i) => ({ InstanceId: `i-${i}`, InstanceType: `g6.type${i}` }));
    const { clients, putCalls } = stubClients([{ Reservations: [{ Instances: instances }] }]);
    await publishCapacity(env, clients, NOW);
    expect(putCalls.map((c) => c.input.MetricData!.length)).toEqual([1000, 203]);
  });

  it('fails naming a missing setting before calling AWS', async () => {
    const { clients, describeCalls } = stubClients([]);
    await expect(publishCapacity({ ...env, [ENV.tagValue]: '' }, clients, NOW)).rejects.toThrow('GPU_NODE_TAG_VALUE is not set');
    expect(describeCalls).toHaveLength(0);
  });
});
