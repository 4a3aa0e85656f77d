/**
 * The scan baseline: parsing and its errors, reading checkov and trivy JSON
 * (shapes taken from checkov 3.3.30 and trivy 0.67.2 output), matching, and
 * the new / stale / suppressed counts `make scan` prints.
 */
import { readFileSync } from 'fs';
import { resolve } from 'path';
import { compare, formatReport, globMatch, parseBaseline, readCheckov, readTrivy } from '../../scripts/scan/baseline';

const REASON = 'a reason long enough to explain the decision';

const checkovTerraform = {
  check_type: 'terraform_json',
  results: {
    passed_checks: [],
    failed_checks: [
      { check_id: 'CKV_AWS_144', check_name: 'Ensure that S3 bucket has cross-region replication enabled', file_path: '/comfyui-dev-storage/cdk.tf.json', resource: 'aws_s3_bucket.ModelsBucket_CFE32332' },
      { check_id: 'CKV_AWS_21', check_name: 'Ensure all data stored in the S3 bucket have versioning enabled', file_path: '/comfyui-dev-storage/cdk.tf.json', resource: 'aws_s3_bucket.LogsBucket_4891A649' },
    ],
    skipped_checks: [{ check_id: 'CKV_AWS_18', check_name: 'Ensure the S3 bucket has access logging enabled', file_path: '/comfyui-dev-edge/cdk.tf.json', resource: 'aws_s3_bucket.Edge_Logs_1' }],
    parsing_errors: [],
  },
  summary: { passed: 119, failed: 2, skipped: 1, parsing_errors: 0, resource_count: 0, checkov_version: '3.3.30' },
};

const checkovKubernetes = [
  {
    check_type: 'kubernetes',
    results: { failed_checks: [{ check_id: 'CKV_K8S_12', check_name: 'Memory requests should be set', file_path: '/comfyui.yaml', resource: 'Deployment.comfyui.comfyui' }], skipped_checks: [] },
    summary: { passed: 69, failed: 1 },
  },
];

const trivyTerraform = {
  SchemaVersion: 2,
  Results: [
    { Target: 'comfyui-dev-storage', Class: 'config', Type: 'terraform', MisconfSummary: { Successes: 48, Failures: 0 } },
    {
      Target: 'comfyui-dev-storage/cdk.tf',
      Class: 'config',
      Type: 'terraform',
      MisconfSummary: { Successes: 0, Failures: 1 },
      Misconfigurations: [
        { ID: 'AVD-AWS-0090', AVDID: 'AVD-AWS-0090', Title: 'S3 Data should be versioned', Status: 'FAIL', CauseMetadata: { Resource: 'aws_s3_bucket_versioning.LogsBucket_Versioning_180117FA' } },
      ],
    },
  ],
};

const trivyChart = {
  SchemaVersion: 2,
  Results: [
    {
      Target: 'templates/deployment.yaml',
      Class: 'config',
      Type: 'helm',
      MisconfSummary: { Successes: 78, Failures: 1 },
      Misconfigurations: [{ ID: 'KSV001', AVDID: 'AVD-KSV-0001', Title: 'Can elevate its own privileges', Status: 'FAIL', CauseMetadata: {} }],
    },
  ],
};

describe('parseBaseline', () => {
  it('reads the committed baseline', () => {
    const baseline = parseBaseline(readFileSync(resolve(__dirname, '../../config/security-baseline.yaml'), 'utf8'));
    expect(baseline.suppressions.length).toBeGreaterThan(0);
    for (const s of baseline.suppressions) expect(s.reason.length).toBeGreaterThanOrEqual(30);
  });

  it('names the entry and field of every problem', () => {
    const text = [
      'suppressions:',
      '  - tool: tfsec',
      '    check: CKV_AWS_1',
      '    target: "*"',
      '    resource: aws_s3_bucket.x',
      '    reason: because',
      '  - tool: checkov',
      '    check: CKV_AWS_1',
      '    target: x',
      '    resource: y',
      `    reason: ${REASON}`,
      '    expires: never',
    ].join('\n');
    expect(() => parseBaseline(text, 'b.yaml')).toThrow(
      [
        'b.yaml is invalid:',
        "  suppressions[0].tool: Invalid enum value. Expected 'checkov' | 'trivy', received 'tfsec'",
        '  suppressions[0].target: target must name something; a bare "*" would suppress the check everywhere',
        '  suppressions[0].reason: must explain why the check does not apply, in at least 30 characters',
        '  suppressions[1]: unknown key(s) expires',
      ].join('\n'),
    );
  });

  it('rejects YAML that does not parse', () => {
    expect(() => parseBaseline('suppressions: [', 'b.yaml')).toThrow(/^b\.yaml is not valid YAML: /);
  });
});

describe('reading scanner output', () => {
  it('takes checkov failed and skipped checks, with the stack or chart as target', () => {
    const tf = readCheckov(checkovTerraform, 'terraform');
    expect(tf.passed).toBe(119);
    expect(tf.findings.map((f) => [f.check, f.target, f.resource])).toEqual([
      ['CKV_AWS_144', 'comfyui-dev-storage', 'aws_s3_bucket.ModelsBucket_CFE32332'],
      ['CKV_AWS_21', 'comfyui-dev-storage', 'aws_s3_bucket.LogsBucket_4891A649'],
      ['CKV_AWS_18', 'comfyui-dev-edge', 'aws_s3_bucket.Edge_Logs_1'],
    ]);
    const k8s = readCheckov(checkovKubernetes, 'kubernetes');
    expect(k8s.findings).toEqual([{ tool: 'checkov', scope: 'kubernetes', check: 'CKV_K8S_12', target: 'comfyui', resource: 'Deployment.comfyui.comfyui', title: 'Memory requests should be set' }]);
    expect(readCheckov({ passed: 0, failed: 0, skipped: 0 }, 'kubernetes')).toEqual({ tool: 'checkov', scope: 'kubernetes', passed: 0, findings: [] });
  });

  it('takes trivy failures by AVDID, with the Terraform address or the chart template as resource', () => {
    const tf = readTrivy(trivyTerraform, 'terraform');
    expect(tf.passed).toBe(48);
    expect(tf.findings.map((f) => [f.check, f.target, f.resource])).toEqual([['AVD-AWS-0090', 'comfyui-dev-storage', 'aws_s3_bucket_versioning.LogsBucket_Versioning_180117FA']]);
    const chart = readTrivy(trivyChart, 'kubernetes', 'comfyui');
    expect(chart.findings.map((f) => [f.check, f.target, f.resource])).toEqual([['AVD-KSV-0001', 'comfyui', 'templates/deployment.yaml']]);
    expect(() => readTrivy({ error: 'x' }, 'terraform')).toThrow('trivy output is not a JSON report');
    // trivy renders a chart itself; when that fails it reports no result at all, which must not read as "clean"
    expect(() => readTrivy({ SchemaVersion: 2, ArtifactName: 'charts/comfyui', ArtifactType: 'filesystem' }, 'kubernetes', 'comfyui')).toThrow(
      'trivy scanned nothing in chart comfyui',
    );
  });
});

describe('comparing with the baseline', () => {
  const results = [readCheckov(checkovTerraform, 'terraform'), readTrivy(trivyTerraform, 'terraform')];

  it('suppresses listed findings, fails the rest and reports stale entries', () => {
    const baseline = parseBaseline(
      [
        'suppressions:',
        '  - {tool: checkov, check: CKV_AWS_144, target: "*-storage", resource: "aws_s3_bucket.*Bucket_*", reason: "' + REASON + '"}',
        '  - {tool: trivy, check: AVD-AWS-0090, target: "*-storage", resource: "aws_s3_bucket_versioning.LogsBucket_*", reason: "' + REASON + '"}',
        '  - {tool: checkov, check: CKV_AWS_999, target: "*-storage", resource: "aws_s3_bucket.Gone_*", reason: "' + REASON + '"}',
      ].join('\n'),
    );
    const comparison = compare(results, baseline);
    expect(comparison.rows).toEqual([
      { tool: 'checkov', scope: 'terraform', passed: 119, failed: 3, suppressed: 1, new: 2 },
      { tool: 'trivy', scope: 'terraform', passed: 48, failed: 1, suppressed: 1, new: 0 },
    ]);
    expect(comparison.newFindings.map((f) => f.check)).toEqual(['CKV_AWS_21', 'CKV_AWS_18']);
    expect(comparison.stale.map((s) => s.check)).toEqual(['CKV_AWS_999']);
    expect(formatReport(comparison, 'config/security-baseline.yaml')).toBe(
      [
        'tool     scope      passed  failed  suppressed  new',
        'checkov  terraform     119       3           1    2',
        'trivy    terraform      48       1           1    0',
        '',
        'New findings (fix them, or add them to config/security-baseline.yaml with a reason):',
        '  checkov CKV_AWS_21 comfyui-dev-storage aws_s3_bucket.LogsBucket_4891A649: Ensure all data stored in the S3 bucket have versioning enabled',
        '  checkov CKV_AWS_18 comfyui-dev-edge aws_s3_bucket.Edge_Logs_1: Ensure the S3 bucket has access logging enabled',
        '',
        'Stale baseline entries (match no finding any more; remove them from config/security-baseline.yaml):',
        '  checkov CKV_AWS_999 *-storage aws_s3_bucket.Gone_*',
      ].join('\n'),
    );
  });

  it('matches tool, check, target and resource together', () => {
    const baseline = parseBaseline(`suppressions:\n  - {tool: trivy, check: CKV_AWS_144, target: "*-storage", resource: "aws_s3_bucket.*", reason: "${REASON}"}\n`);
    expect(compare(results, baseline).rows[0].suppressed).toBe(0);
  });
});

describe('globMatch', () => {
  it.each([
    ['*-storage', 'comfyui-dev-storage', true],
    ['*-storage', 'comfyui-dev-storage-2', false],
    ['aws_s3_bucket.{Outputs,Inputs}Bucket_*', 'aws_s3_bucket.InputsBucket_C878A50D', true],
    ['aws_s3_bucket.{Outputs,Inputs}Bucket_*', 'aws_s3_bucket.ModelsBucket_CFE32332', false],
    ['data.DataKey_Policy_*', 'data.DataKey_Policy_2CB0D88B', true],
    ['Deployment.comfyui.comfyui', 'Deployment.comfyui.comfyuiX', false],
  ])('%s ~ %s -> %s', (pattern, value, expected) => {
    expect(globMatch(pattern, value)).toBe(expected);
  });
});
