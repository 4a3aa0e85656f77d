/**
 * A small typed model of a CloudWatch dashboard and its renderer to the
 * documented dashboard body JSON (CloudWatch "Dashboard Body Structure and
 * Syntax"). Widgets are laid out in rows on CloudWatch's 24-unit grid, so
 * positions never overlap and adding a widget never means editing x/y.
 *
 * Only the fields this project uses are modelled; the renderer emits nothing
 * else, because PutDashboard rejects unknown fields at apply time.
 */

/** Statistics the dashboards and alarms use. */
export type Statistic = 'Average' | 'Sum' | 'Minimum' | 'Maximum' | 'SampleCount' | 'p50' | 'p90' | 'p95' | 'p99';

/** One metric series: namespace, name and every dimension. */
export interface MetricSeries {
  readonly kind: 'metric';
  /** CloudWatch namespace (a contract namespace or AWS/...). */
  readonly namespace: string;
  /** Metric name. */
  readonly metricName: string;
  /** Dimension name -> value, in the order they are published. */
  readonly dimensions: Readonly<Record<string, string>>;
  /** Statistic. Default: the widget's. */
  readonly stat?: Statistic;
  /** Legend label. */
  readonly label?: string;
  /** Id for metric math (lower-case start). */
  readonly id?: string;
  /** False: fetched for math only, not drawn. */
  readonly visible?: boolean;
  /** Right y-axis. */
  readonly rightAxis?: boolean;
}

/**
 * A CloudWatch SEARCH over one dimension set: one line per matching series
 * (per node, per pod, per instance type) without knowing the values in advance.
 */
export interface SearchSeries {
  readonly kind: 'search';
  readonly namespace: string;
  readonly metricName: string;
  /** The full dimension set searched, e.g. [ClusterName, InstanceId]. */
  readonly dimensionKeys: readonly string[];
  /** Exact-match filters (ClusterName = this cluster). */
  readonly filters: Readonly<Record<string, string>>;
  readonly stat: Statistic;
  /** Period in seconds. */
  readonly period: number;
  /** Id (lower-case start). */
  readonly id: string;
  /** Legend label; CloudWatch appends the varying dimension. */
  readonly label?: string;
}

/** Metric math over series ids of the same widget. */
export interface ExpressionSeries {
  readonly kind: 'expression';
  readonly expression: string;
  readonly id: string;
  readonly label: string;
  readonly visible?: boolean;
  readonly rightAxis?: boolean;
}

export type Series = MetricSeries | SearchSeries | ExpressionSeries;

/** A horizontal line on a graph (alarm threshold, target). */
export interface HorizontalAnnotation {
  readonly value: number;
  readonly label: string;
  readonly color?: string;
}

/** A graph or single-value widget. */
export interface MetricWidget {
  readonly type: 'metric';
  readonly title: string;
  readonly series: readonly Series[];
  /** Grid width (1-24). Default 8. */
  readonly width?: number;
  /** Grid height. Default 6. */
  readonly height?: number;
  /** Default statistic of plain metrics. Default Average. */
  readonly stat?: Statistic;
  /** Period in seconds. Default 300. */
  readonly period?: number;
  /** Region of the metrics (CloudFront: us-east-1). Default: the dashboard's. */
  readonly region?: string;
  readonly view?: 'timeSeries' | 'singleValue' | 'bar';
  readonly stacked?: boolean;
  readonly yAxisLabel?: string;
  /** Fix the left axis minimum at 0. Default true. */
  readonly zeroBased?: boolean;
  readonly annotations?: readonly HorizontalAnnotation[];
}

/** Markdown text. */
export interface TextWidget {
  readonly type: 'text';
  readonly markdown: string;
  readonly width?: number;
  readonly height?: number;
}

/** States of alarms at a glance. */
export interface AlarmStatusWidget {
  readonly type: 'alarm';
  readonly title: string;
  /** Alarm ARNs (tokens allowed). */
  readonly alarmArns: readonly string[];
  readonly width?: number;
  readonly height?: number;
}

export type Widget = MetricWidget | TextWidget | AlarmStatusWidget;

/** A dashboard: rows of widgets, each row filling the grid left to right. */
export interface DashboardModel {
  /** Region of metrics whose widget names none. */
  readonly region: string;
  /** Default time range, ISO 8601 duration before now (e.g. -PT12H). */
  readonly start: string;
  /** Rows, top to bottom; a row wraps when its widths exceed 24. */
  readonly rows: readonly (readonly Widget[])[];
}

/** CloudWatch's grid is 24 units wide. */
export const GRID_WIDTH = 24;

type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

/** Renders the body PutDashboard takes (as an object; JSON.stringify it). */
export function renderDashboard(model: DashboardModel): { start: string; periodOverride: 'auto'; widgets: Json[] } {
  const widgets: Json[] = [];
  let y = 0;
  for (const row of model.rows) {
    let x = 0;
    let rowHeight = 0;
    for (const widget of row) {
      const width = widget.width ?? defaultWidth(widget);
      const height = widget.height ?? defaultHeight(widget);
      if (width < 1 || width > GRID_WIDTH) throw new Error(`widget "${titleOf(widget)}": width must be 1-${GRID_WIDTH}, got ${width}`);
      if (x + width > GRID_WIDTH) {
        y += rowHeight;
        x = 0;
        rowHeight = 0;
      }
      widgets.push({ type: widget.type, x, y, width, height, properties: renderProperties(widget, model.region) });
      x += width;
      rowHeight = Math.max(rowHeight, height);
    }
    y += rowHeight;
  }
  if (widgets.length > 500) throw new Error(`a dashboard holds at most 500 widgets, got ${widgets.length}`);
  return { start: model.start, periodOverride: 'auto', widgets };
}

function defaultWidth(widget: Widget): number {
  return widget.type === 'text' ? GRID_WIDTH : 8;
}

function defaultHeight(widget: Widget): number {
  if (widget.type === 'text') return 2;
  if (widget.type === 'metric' && widget.view === 'singleValue') return 4;
  return 6;
}

function titleOf(widget: Widget): string {
  return widget.type === 'text' ? widget.markdown.slice(0, 40) : widget.title;
}

function renderProperties(widget: Widget, dashboardRegion: string): { [key: string]: Json } {
  switch (widget.type) {
    case 'text':
      return { markdown: widget.markdown };
    case 'alarm':
      return { title: widget.title, alarms: [...widget.alarmArns] };
    case 'metric':
      return renderMetricProperties(widget, dashboardRegion);
  }
}

function renderMetricProperties(widget: MetricWidget, dashboardRegion: string): { [key: string]: Json } {
  const ids = new Set<string>();
  for (const s of widget.series) {
    const id = s.id;
    if (id === undefined) continue;
    if (!/^[a-z][a-zA-Z0-9_]*$/.test(id)) throw new Error(`widget "${widget.title}": series id "${id}" must start with a lower-case letter (metric math ids)`);
    if (ids.has(id)) throw new Error(`widget "${widget.title}": series id "${id}" is used twice`);
    ids.add(id);
  }
  const properties: { [key: string]: Json } = {
    title: widget.title,
    view: widget.view ?? 'timeSeries',
    region: widget.region ?? dashboardRegion,
    stat: widget.stat ?? 'Average',
    period: widget.period ?? 300,
    metrics: widget.series.map(renderSeries),
  };
  if (widget.view !== 'singleValue') {
    properties.stacked = widget.stacked ?? false;
    const left: { [key: string]: Json } = {};
    if (widget.zeroBased ?? true) left.min = 0;
    if (widget.yAxisLabel) left.label = widget.yAxisLabel;
    properties.yAxis = { left };
  }
  if (widget.annotations && widget.annotations.length > 0) {
    properties.annotations = {
      horizontal: widget.annotations.map((a): Json => (a.color ? { value: a.value, label: a.label, color: a.color } : { value: a.value, label: a.label })),
    };
  }
  return properties;
}

function renderSeries(series: Series): Json[] {
  switch (series.kind) {
    case 'metric': {
      const row: Json[] = [series.namespace, series.metricName];
      for (const [name, value] of Object.entries(series.dimensions)) row.push(name, value);
      const options = renderingOptions({ stat: series.stat, label: series.label, id: series.id, visible: series.visible, rightAxis: series.rightAxis });
      if (Object.keys(options).length > 0) row.push(options);
      return row;
    }
    case 'search':
      return [{ expression: searchExpression(series), id: series.id, ...(series.label ? { label: series.label } : {}) }];
    case 'expression':
      return [renderingOptions({ expression: series.expression, id: series.id, label: series.label, visible: series.visible, rightAxis: series.rightAxis })];
  }
}

function renderingOptions(o: { expression?: string; stat?: Statistic; label?: string; id?: string; visible?: boolean; rightAxis?: boolean }): { [key: string]: Json } {
  const out: { [key: string]: Json } = {};
  if (o.expression !== undefined) out.expression = o.expression;
  if (o.stat !== undefined) out.stat = o.stat;
  if (o.label !== undefined) out.label = o.label;
  if (o.id !== undefined) out.id = o.id;
  if (o.visible === false) out.visible = false;
  if (o.rightAxis) out.yAxis = 'right';
  return out;
}

/** Quotes a SEARCH term value (double quotes, backslash-escaped). */
function quoteSearchValue(value: string): string {
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/**
 * `SEARCH('{Namespace,Dim1,Dim2} MetricName="m" Dim1="v"', 'Stat', Period)`:
 * the braces pin the exact dimension set, so the aggregate series (fewer
 * dimensions) is not drawn twice beside the breakdown.
 */
export function searchExpression(series: Pick<SearchSeries, 'namespace' | 'metricName' | 'dimensionKeys' | 'filters' | 'stat' | 'period'>): string {
  const schema = [series.namespace, ...series.dimensionKeys].map((part) => (/^[A-Za-z0-9_]+$/.test(part) ? part : quoteSearchValue(part))).join(',');
  const terms = [`MetricName=${quoteSearchValue(series.metricName)}`, ...Object.entries(series.filters).map(([k, v]) => `${k}=${quoteSearchValue(v)}`)];
  const query = `{${schema}} ${terms.join(' ')}`;
  return `SEARCH('${query.replace(/'/g, "\\'")}', '${series.stat}', ${series.period})`;
}

/** Every metric a model reads (plain series and the targets of SEARCH expressions), for checks and docs. */
export function referencedMetrics(model: DashboardModel): { namespace: string; metricName: string; dimensions: Record<string, string>; dimensionKeys: readonly string[]; region: string; widget: string }[] {
  const out: ReturnType<typeof referencedMetrics> = [];
  for (const row of model.rows) {
    for (const widget of row) {
      if (widget.type !== 'metric') continue;
      const region = widget.region ?? model.region;
      for (const s of widget.series) {
        if (s.kind === 'metric') out.push({ namespace: s.namespace, metricName: s.metricName, dimensions: { ...s.dimensions }, dimensionKeys: Object.keys(s.dimensions), region, widget: widget.title });
        if (s.kind === 'search') out.push({ namespace: s.namespace, metricName: s.metricName, dimensions: { ...s.filters }, dimensionKeys: s.dimensionKeys, region, widget: widget.title });
      }
    }
  }
  return out;
}
