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
