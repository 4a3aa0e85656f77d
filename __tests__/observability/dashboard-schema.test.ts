/**
 * The rendered dashboard body against a JSON schema of CloudWatch's
 * documented Dashboard Body Structure (constructs/observability/
 * dashboard-body.schema.json). PutDashboard rejects unknown fields at apply
 * time; this catches them at test time.
 */
import Ajv2020 from 'ajv/dist/2020';
import schema from '../../constructs/observability/dashboard-body.schema.json';
import { DashboardModel, GRID_WIDTH, renderDashboard, searchExpression } from '../../constructs/observability/dashboard-model';
import { buildPlatformDashboard } from '../../constructs/observability/platform-dashboard';
import { ObservedPlatform } from '../../constructs/observability/observed-platform';
import { FAKE_JOBS_SOURCES, FAKE_PLATFORM, synthObservability } from './fixtures';

const validate = new Ajv2020({ strict: true, strictTuples: false /* metric rows are variable-length by design */, allErrors: true }).compile(schema);
const errorsOf = (body: unknown) => (validate(body) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message}`));

const PLATFORM: ObservedPlatform = FAKE_PLATFORM;

const render = (platform: ObservedPlatform) =>
  renderDashboard(buildPlatformDashboard({ platform, alarmArns: ['arn:aws:cloudwatch:us-west-2:123456789012:alarm:comfyui-dev-ops-gpu-idle'], thresholds: { edge5xxRatePercent: 5, spotInterruptionsPer15Minutes: 3 }, priceNote: 'the price table' }));

describe('dashboard body schema', () => {
  it('accepts the example body of the CloudWatch documentation', () => {
    const documented = {
      start: '-PT6H',
      periodOverride: 'inherit',
      widgets: [
        {
          type: 'metric',
          x: 0,
          y: 0,
          width: 12,
          height: 6,
          properties: { metrics: [['AWS/EC2', 'CPUUtilization', 'InstanceId', 'i-012345']], period: 300, stat: 'Average', region: 'us-east-1', title: 'EC2 Instance CPU', liveData: false, legend: { position: 'right' } },
        },
        { type: 'text', x: 0, y: 7, width: 3, height: 3, properties: { markdown: 'Hello world' } },
      ],
    };
    expect(errorsOf(documented)).toEqual([]);
  });

  it.each([
    ['an unknown top-level field', (b: any) => (b.theme = 'dark')],
    ['an unknown widget field', (b: any) => (b.widgets[1].colour = 'red')],
    ['an unknown metric widget property', (b: any) => (b.widgets[1].properties.unit = 'Count')],
    ['a metric widget without a region', (b: any) => delete b.widgets[1].properties.region],
    ['two rendering objects in one metric row', (b: any) => b.widgets[1].properties.metrics[0].push({ label: 'x' }, { stat: 'Sum' })],
    ['an unknown rendering property', (b: any) => (b.widgets[1].properties.metrics[0] = ['AWS/SQS', 'NumberOfMessagesSent', 'QueueName', 'q', { colour: '#ff0000' }])],
    ['a width over 24', (b: any) => (b.widgets[1].width = 25)],
    ['a period that is not a multiple of 60', (b: any) => (b.widgets[1].properties.period = 90)],
    ['a text widget without markdown', (b: any) => (b.widgets[0].properties = {})],
    ['an unknown widget type', (b: any) => (b.widgets[0].type = 'chart')],
  ])('rejects %s', (_what, mutate) => {
    const body = JSON.parse(JSON.stringify(render(PLATFORM)));
    expect(errorsOf(body)).toEqual([]);
    mutate(body);
    expect(errorsOf(body).length).toBeGreaterThan(0);
  });

  it.each([
    ['basic auth', PLATFORM],
    ['cognito, jobs wired', { ...PLATFORM, edge: { ...PLATFORM.edge, authMode: 'cognito' as const, authFunctionName: undefined }, jobs: FAKE_JOBS_SOURCES }],
    ['no auth, no CloudFront additional metrics', { ...PLATFORM, edge: { ...PLATFORM.edge, authMode: 'none' as const, authFunctionName: undefined }, cloudFrontAdditionalMetrics: false }],
  ])('validates the rendered platform dashboard (%s)', (_name, platform) => {
    expect(errorsOf(render(platform))).toEqual([]);
  });

  it('validates the body the stack synthesizes', () => {
    expect(errorsOf(synthObservability({}, { jobs: true }).body)).toEqual([]);
  });

  it('lays widgets out on the 24-unit grid without overlaps', () => {
    const { widgets } = render({ ...PLATFORM, jobs: FAKE_JOBS_SOURCES }) as { widgets: any[] };
    for (const w of widgets) expect(w.x + w.width).toBeLessThanOrEqual(GRID_WIDTH);
    for (let i = 0; i < widgets.length; i++) {
      for (let j = i + 1; j < widgets.length; j++) {
        const [a, b] = [widgets[i], widgets[j]];
        const overlap = a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
        expect({ a: a.properties.title ?? a.properties.markdown, b: b.properties.title ?? b.properties.markdown, overlap }).toMatchObject({ overlap: false });
      }
    }
  });
});

describe('dashboard model', () => {
  it('pins SEARCH to one dimension set and quotes values', () => {
    expect(searchExpression({ namespace: 'ComfyUI/Serving', metricName: 'QueuePending', dimensionKeys: ['ClusterName', 'Pod'], filters: { ClusterName: 'a"b' }, stat: 'Maximum', period: 60 })).toBe(
      `SEARCH('{"ComfyUI/Serving",ClusterName,Pod} MetricName="QueuePending" ClusterName="a\\"b"', 'Maximum', 60)`,
    );
  });

  it('refuses duplicate or malformed metric math ids', () => {
    const model = (ids: string[]): DashboardModel => ({
      region: 'us-west-2',
      start: '-PT3H',
      rows: [[{ type: 'metric', title: 't', series: ids.map((id) => ({ kind: 'expression' as const, id, expression: '1', label: id })) }]],
    });
    expect(() => renderDashboard(model(['a', 'a']))).toThrow('series id "a" is used twice');
    expect(() => renderDashboard(model(['Bad']))).toThrow('must start with a lower-case letter');
  });
});
