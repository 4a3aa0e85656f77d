/**
 * Capacity publisher: once a minute (EventBridge schedule) counts this
 * cluster's GPU instances (EC2 DescribeInstances by the GPU node tag, states
 * pending and running) and publishes `ComfyUI/Capacity` metrics: nodes by
 * capacity type and instance type, and the ESTIMATED spend per hour from the
 * configured price table. Karpenter's own metrics are Prometheus-only; EC2
 * knows every node's lifecycle and type without a scraper in the cluster.
 */
import { CloudWatchClient, PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { DescribeInstancesCommand, DescribeInstancesCommandOutput, EC2Client } from '@aws-sdk/client-ec2';
import { CAPACITY } from '../../constructs/observability/metric-names';
import { ENV, GpuInstance, parsePriceTable, summarise } from './summary';

/** The two AWS calls, injectable for tests. */
export interface CapacityClients {
  readonly ec2: { send(command: DescribeInstancesCommand): Promise<DescribeInstancesCommandOutput> };
  readonly cloudwatch: { send(command: PutMetricDataCommand): Promise<unknown> };
}

/** PutMetricData accepts at most 1000 data points per call. */
const MAX_DATUMS_PER_CALL = 1000;

/** Every pending or running instance carrying the tag, across pages. */
export async function listGpuInstances(ec2: CapacityClients['ec2'], tagKey: string, tagValue: string): Promise<GpuInstance[]> {
  const instances: GpuInstance[] = [];
  let nextToken: string | undefined;
  do {
    const page = await ec2.send(
      new DescribeInstancesCommand({
        Filters: [
          { Name: `tag:${tagKey}`, Values: [tagValue] },
          { Name: 'instance-state-name', Values: ['pending', 'running'] },
        ],
        MaxResults: 1000,
        NextToken: nextToken,
      }),
    );
    for (const reservation of page.Reservations ?? []) {
      for (const instance of reservation.Instances ?? []) {
        if (!instance.InstanceId || !instance.InstanceType) continue;
        instances.push({ instanceId: instance.InstanceId, instanceType: instance.InstanceType, capacityType: instance.InstanceLifecycle === 'spot' ? 'spot' : 'on-demand' });
      }
    }
    nextToken = page.NextToken;
  } while (nextToken);
  return instances;
}

/** One run: read, summarise, publish. Returns what was published. */
export async function publishCapacity(env: Record<string, string | undefined>, clients: CapacityClients, now: Date = new Date()): Promise<{ gpuNodes: number; datums: number }> {
  const clusterName = env[ENV.clusterName];
  const tagKey = env[ENV.tagKey];
  const tagValue = env[ENV.tagValue];
  for (const [name, value] of [[ENV.clusterName, clusterName], [ENV.tagKey, tagKey], [ENV.tagValue, tagValue]] as const) {
    if (!value) throw new Error(`${name} is not set`);
  }
  const table = parsePriceTable(env[ENV.prices], env[ENV.spotPriceRatio]);
  const instances = await listGpuInstances(clients.ec2, tagKey as string, tagValue as string);
  const datums = summarise(clusterName as string, instances, table, now);
  for (let i = 0; i < datums.length; i += MAX_DATUMS_PER_CALL) {
    await clients.cloudwatch.send(new PutMetricDataCommand({ Namespace: CAPACITY.namespace, MetricData: datums.slice(i, i + MAX_DATUMS_PER_CALL) }));
  }
  const unpriced = [...new Set(instances.filter((x) => table.prices[x.instanceType] === undefined).map((x) => x.instanceType))];
  process.stdout.write(`${JSON.stringify({ level: unpriced.length ? 'warn' : 'info', msg: 'published capacity', gpuNodes: instances.length, datums: datums.length, ...(unpriced.length ? { unpricedTypes: unpriced } : {}) })}\n`);
  return { gpuNodes: instances.length, datums: datums.length };
}

let clients: CapacityClients | undefined;

/** Lambda entry point (scheduled; the event carries nothing it needs). */
export async function handler(): Promise<{ gpuNodes: number; datums: number }> {
  clients ??= { ec2: new EC2Client({}), cloudwatch: new CloudWatchClient({}) };
  return publishCapacity(process.env, clients);
}
