/**
 * Pure part of the capacity publisher: from this cluster's GPU instances to
 * the `ComfyUI/Capacity` data points (constructs/observability/metric-names.ts).
 * The spend figure is an ESTIMATE: configured hourly prices, not the bill.
 */
import { CAPACITY, CLUSTER_DIMENSION } from '../../constructs/observability/metric-names';

/** Karpenter capacity types, as EC2 reports them (InstanceLifecycle absent = on-demand). */
export type CapacityType = (typeof CAPACITY.capacityTypes)[number];

/** One GPU instance of the cluster. */
export interface GpuInstance {
  readonly instanceId: string;
  readonly instanceType: string;
  readonly capacityType: CapacityType;
}

/** USD per hour of one instance type; spot defaults to onDemand x spotPriceRatio. */
export interface InstancePrice {
  readonly onDemand: number;
  readonly spot?: number;
}

/** What the publisher is told at deploy time. */
export interface PriceTable {
  readonly prices: Readonly<Record<string, InstancePrice>>;
  /** Fraction of the On-Demand price assumed for Spot when a type has no spot price. */
  readonly spotPriceRatio: number;
}

/** A data point in PutMetricData's shape (Dimensions as Name/Value pairs). */
export interface Datum {
  readonly MetricName: string;
  readonly Dimensions: { Name: string; Value: string }[];
  readonly Value: number;
  readonly Unit: 'Count' | 'None';
  readonly Timestamp: Date;
}

/** Hourly price of one instance, or undefined when the table lacks its type. */
export function hourlyPrice(instance: Pick<GpuInstance, 'instanceType' | 'capacityType'>, table: PriceTable): number | undefined {
  const price = table.prices[instance.instanceType];
  if (!price) return undefined;
  return instance.capacityType === 'spot' ? (price.spot ?? price.onDemand * table.spotPriceRatio) : price.onDemand;
}

/** The data points for one minute: totals always (0 included), the breakdown for combinations present. */
export function summarise(clusterName: string, instances: readonly GpuInstance[], table: PriceTable, now: Date): Datum[] {
  const cluster = { Name: CLUSTER_DIMENSION, Value: clusterName };
  const byType = new Map<string, { capacityType: CapacityType; instanceType: string; count: number }>();
  let spend = 0;
  let unpriced = 0;
  for (const instance of instances) {
    const key = `${instance.capacityType}\u0000${instance.instanceType}`;
    const entry = byType.get(key) ?? { capacityType: instance.capacityType, instanceType: instance.instanceType, count: 0 };
    entry.count += 1;
    byType.set(key, entry);
    const price = hourlyPrice(instance, table);
    if (price === undefined) unpriced += 1;
    else spend += price;
  }
  const datums: Datum[] = [
    { MetricName: CAPACITY.metrics.gpuNodes, Dimensions: [cluster], Value: instances.length, Unit: 'Count', Timestamp: now },
    { MetricName: CAPACITY.metrics.estimatedGpuSpendPerHour, Dimensions: [cluster], Value: Math.round(spend * 10000) / 10000, Unit: 'None', Timestamp: now },
    { MetricName: CAPACITY.metrics.unpricedGpuNodes, Dimensions: [cluster], Value: unpriced, Unit: 'Count', Timestamp: now },
  ];
  const sorted = [...byType.values()].sort((a, b) => a.capacityType.localeCompare(b.capacityType) || a.instanceType.localeCompare(b.instanceType));
  for (const entry of sorted) {
    datums.push({
      MetricName: CAPACITY.metrics.gpuNodes,
      Dimensions: [cluster, { Name: CAPACITY.capacityTypeDimension, Value: entry.capacityType }, { Name: CAPACITY.instanceTypeDimension, Value: entry.instanceType }],
      Value: entry.count,
      Unit: 'Count',
      Timestamp: now,
    });
  }
  return datums;
}

/** Parses the PRICES environment variable; throws naming the variable and the entry. */
export function parsePriceTable(pricesJson: string | undefined, ratio: string | undefined): PriceTable {
  if (!pricesJson) throw new Error(`${ENV.prices} is not set`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(pricesJson);
  } catch (err) {
    throw new Error(`${ENV.prices} is not JSON: ${(err as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error(`${ENV.prices} must be an object of instance type -> {onDemand, spot?}`);
  const prices: Record<string, InstancePrice> = {};
  for (const [type, value] of Object.entries(parsed as Record<string, unknown>)) {
    const v = value as { onDemand?: unknown; spot?: unknown };
    if (typeof v?.onDemand !== 'number' || !(v.onDemand > 0)) throw new Error(`${ENV.prices}.${type}.onDemand must be a positive number`);
    if (v.spot !== undefined && (typeof v.spot !== 'number' || !(v.spot > 0))) throw new Error(`${ENV.prices}.${type}.spot must be a positive number`);
    prices[type] = v.spot === undefined ? { onDemand: v.onDemand } : { onDemand: v.onDemand, spot: v.spot as number };
  }
  const spotPriceRatio = Number(ratio);
  if (!(spotPriceRatio > 0 && spotPriceRatio <= 1)) throw new Error(`${ENV.spotPriceRatio} must be a number in (0, 1], got ${ratio}`);
  return { prices, spotPriceRatio };
}

/** Environment variables of the function. */
export const ENV = {
  clusterName: 'CLUSTER_NAME',
  tagKey: 'GPU_NODE_TAG_KEY',
  tagValue: 'GPU_NODE_TAG_VALUE',
  prices: 'GPU_PRICES',
  spotPriceRatio: 'SPOT_PRICE_RATIO',
} as const;
