/** The AWS provider build is cut to the service packages that own the synthesized types, derived, never hand-listed. */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { dirname, join } from 'path';
import { motoProviderOverride } from '../../scripts/e2e/aws';
import { spawnSync } from 'child_process';

const SCRIPT = join(__dirname, '..', '..', 'scripts', 'aws-provider-services.mjs');
/** Runs the script as the installer does. */
const services = (args: string[]) => spawnSync(process.execPath, [SCRIPT, ...args], { encoding: 'utf8' });

const write = (root: string, path: string, text: string) => {
  mkdirSync(dirname(join(root, path)), { recursive: true });
  writeFileSync(join(root, path), text);
};

/** A miniature provider tree in the layout of hashicorp/terraform-provider-aws. */
function fakeProvider(): string {
  const root = mkdtempSync(join(tmpdir(), 'provider-'));
  write(root, 'internal/service/s3/service_package_gen.go', 'TypeName: "aws_s3_bucket",\nTypeName: "aws_s3_bucket_policy",\n');
  write(root, 'internal/service/s3/bucket.go', 'import "github.com/hashicorp/terraform-provider-aws/internal/service/kms"\nconn := meta.S3Client(ctx)\n');
  write(root, 'internal/service/kms/service_package_gen.go', 'TypeName: "aws_kms_key",\n');
  write(root, 'internal/service/kms/key.go', 'conn := meta.KMSClient(ctx)\n');
  write(root, 'internal/service/ec2/service_package_gen.go', 'TypeName: "aws_vpc",\n');
  write(root, 'internal/service/ec2/vpc.go', 'conn := meta.EC2Client(ctx)\n');
  write(root, 'internal/service/sts/service_package_gen.go', 'TypeName: "aws_caller_identity",\n');
  write(root, 'internal/conns/awsclient.go', 'c.STSClient(ctx)\n');
  write(root, 'internal/acctest/acctest.go', 'c.EC2Client(ctx)\n');
  write(root, 'names/consts_gen.go', '\tEC2 = "ec2"\n\tKMS = "kms"\n\tS3 = "s3"\n\tSTS = "sts"\n');
  write(
    root,
    'internal/provider/sdkv2/service_packages_gen.go',
    ['import (', '\t"github.com/hashicorp/terraform-provider-aws/internal/service/ec2"', '\t"github.com/hashicorp/terraform-provider-aws/internal/service/kms"', '\t"github.com/hashicorp/terraform-provider-aws/internal/service/s3"', '\t"github.com/hashicorp/terraform-provider-aws/internal/service/sts"', ')', '\t\tec2.ServicePackage(ctx),', '\t\tkms.ServicePackage(ctx),', '\t\ts3.ServicePackage(ctx),', '\t\tsts.ServicePackage(ctx),', ''].join('\n'),
  );
  const method = (name: string, pkg: string) => `\nfunc (c *AWSClient) ${name}(ctx context.Context) *${pkg}.Client {\n\treturn errs.Must(client[*${pkg}.Client](ctx, c, names.${pkg.toUpperCase()}, make(map[string]any)))\n}\n`;
  write(
    root,
    'internal/conns/awsclient_gen.go',
    ['import (', '\t"github.com/aws/aws-sdk-go-v2/service/ec2"', '\t"github.com/aws/aws-sdk-go-v2/service/kms"', '\t"github.com/aws/aws-sdk-go-v2/service/s3"', '\t"github.com/aws/aws-sdk-go-v2/service/sts"', ')', method('EC2Client', 'ec2'), method('KMSClient', 'kms'), method('S3Client', 's3'), method('STSClient', 'sts')].join('\n'),
  );
  return root;
}

function synthDir(types: Record<string, string[]>): string {
  const out = mkdtempSync(join(tmpdir(), 'synth-'));
  write(out, 'stacks/a/cdk.tf.json', JSON.stringify({ resource: Object.fromEntries(types.resource.map((t) => [t, {}])), data: Object.fromEntries(types.data.map((t) => [t, {}])) }));
  return out;
}

describe('aws-provider-services', () => {
  it('derives the service packages from the aws_* types of the synthesized stacks', () => {
    const r = services(['--provider', fakeProvider(), synthDir({ resource: ['aws_s3_bucket', 'helm_release'], data: ['aws_s3_bucket_policy'] })]);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('s3\n');
  });

  it('fails naming a type no service package registers', () => {
    const r = services(['--provider', fakeProvider(), synthDir({ resource: ['aws_s3_bucket', 'aws_gone'], data: [] })]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/no service package of the provider registers aws_gone/);
  });

  it('cuts the registries to the kept packages, what they import and the owners of the clients built-in code calls', () => {
    const provider = fakeProvider();
    const r = services(['--provider', provider, '--cut', synthDir({ resource: ['aws_s3_bucket'], data: [] })]);
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/1 service packages own them; 3 registered .*, 3 compiled, 3 SDK clients/);
    const registry = readFileSync(join(provider, 'internal/provider/sdkv2/service_packages_gen.go'), 'utf8');
    // s3 owns the type, s3 imports kms, built-in code calls the STS client (its factory must be registered);
    // the acceptance-test helper's EC2 call is not built into the provider.
    for (const pkg of ['s3', 'kms', 'sts']) expect(registry).toContain(`${pkg}.ServicePackage(ctx)`);
    expect(registry).not.toMatch(/ec2/);
    const clients = readFileSync(join(provider, 'internal/conns/awsclient_gen.go'), 'utf8');
    for (const kept of ['S3Client', 'KMSClient', 'STSClient']) expect(clients).toContain(kept);
    expect(clients).not.toContain('EC2Client');
    expect(clients).not.toContain('aws-sdk-go-v2/service/ec2');
  });
});

describe('aws-provider-services --cut: registered types', () => {
  /** A service_package_gen.go in the generator's layout: two resources, one data source. */
  const sqsRegistration = [
    'package sqs',
    '',
    'import (',
    '\t"context"',
    '\t"unique"',
    '',
    '\tinttypes "github.com/hashicorp/terraform-provider-aws/internal/types"',
    '\t"github.com/hashicorp/terraform-provider-aws/names"',
    ')',
    '',
    'func (p *servicePackage) SDKDataSources(ctx context.Context) []*inttypes.ServicePackageSDKDataSource {',
    '\treturn []*inttypes.ServicePackageSDKDataSource{',
    '\t\t{',
    '\t\t\tFactory:  dataSourceQueue,',
    '\t\t\tTypeName: "aws_sqs_queue",',
    '\t\t\tTags: unique.Make(inttypes.ServicePackageResourceTags{',
    '\t\t\t\tIdentifierAttribute: names.AttrURL,',
    '\t\t\t}),',
    '\t\t},',
    '\t}',
    '}',
    '',
    'func (p *servicePackage) SDKResources(ctx context.Context) []*inttypes.ServicePackageSDKResource {',
    '\treturn []*inttypes.ServicePackageSDKResource{',
    '\t\t{',
    '\t\t\tFactory:  resourceQueue,',
    '\t\t\tTypeName: "aws_sqs_queue",',
    '\t\t\tRegion:   inttypes.ResourceRegionDefault(),',
    '\t\t},',
    '\t\t{',
    '\t\t\tFactory:  resourceQueuePolicy,',
    '\t\t\tTypeName: "aws_sqs_queue_policy",',
    '\t\t\tRegion:   inttypes.ResourceRegionDefault(),',
    '\t\t},',
    '\t}',
    '}',
    '',
  ].join('\n');

  function providerWithSqs(): string {
    const root = fakeProvider();
    write(root, 'internal/service/s3/service_package_gen.go', sqsRegistration.replace('package sqs', 'package s3').replaceAll('aws_sqs_', 'aws_s3_bucket_').replace('"aws_s3_bucket_queue",\n\t\t\tRegion', '"aws_s3_bucket",\n\t\t\tRegion'));
    return root;
  }

  it('registers only the synthesized types, keeps the file compilable (unused imports become blank) and prints them with --types', () => {
    const provider = providerWithSqs();
    const r = services(['--provider', provider, '--cut', '--types', synthDir({ resource: ['aws_s3_bucket'], data: [] })]);
    expect(r.status).toBe(0);
    const gen = readFileSync(join(provider, 'internal/service/s3/service_package_gen.go'), 'utf8');
    expect([...gen.matchAll(/TypeName: "([a-z0-9_]+)"/g)].map((m) => m[1])).toEqual(['aws_s3_bucket']);
    // The data source went (it was the only user of unique and names): their imports stay, blank, so Go still compiles.
    expect(gen).toContain('\t_ "unique"\n');
    expect(gen).toContain('\t_ "github.com/hashicorp/terraform-provider-aws/names"\n');
    expect(gen).toContain('\tinttypes "github.com/hashicorp/terraform-provider-aws/internal/types"\n');
    expect(gen).toContain('return []*inttypes.ServicePackageSDKDataSource{\n\t}');
    expect(r.stderr).toMatch(/registered types: 1 of 3 in the kept service packages/);
    expect(r.stdout).toBe('aws_s3_bucket\n');
  });

  it('fails when a kept type is missing after the cut (generator layout changed)', () => {
    const provider = providerWithSqs();
    // A block the cut cannot parse: its closing brace is not where the generator puts it.
    const gen = join(provider, 'internal/service/s3/service_package_gen.go');
    writeFileSync(gen, readFileSync(gen, 'utf8').replace('\t\t\tFactory:  resourceQueue,', '\t\t\tFactory:  resourceQueue, },\n\t\t{'));
    const r = services(['--provider', provider, '--cut', synthDir({ resource: ['aws_s3_bucket'], data: [] })]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/service_package_gen\.go/);
  });
});

describe('motoProviderOverride', () => {
  it('points every built service at the one loopback endpoint and retries little', () => {
    const override = motoProviderOverride('http://127.0.0.1:5000', ['s3', 'meta', 'sts']) as { provider: { aws: Record<string, any>[] } };
    const aws = override.provider.aws[0];
    expect(aws.endpoints).toEqual([{ s3: 'http://127.0.0.1:5000', sts: 'http://127.0.0.1:5000' }]);
    // A few retries for moto's transient 500s, not the provider's default 25 (a missing API must fail in seconds).
    expect(aws.max_retries).toBe(3);
    expect(aws).toMatchObject({ skip_credentials_validation: true, skip_metadata_api_check: 'true', access_key: 'testing' });
  });
});
