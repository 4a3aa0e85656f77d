import { Fn, TerraformStack, Testing } from 'cdktf';
import { S3Bucket } from '@cdktf/provider-aws/lib/s3-bucket';
import { IamPolicy } from '@cdktf/provider-aws/lib/iam-policy';
import { AwsProvider } from '@cdktf/provider-aws/lib/provider';
import { HclParseError, parseJsonencode } from '../../constructs/policy/hcl-expression';

describe('parseJsonencode', () => {
  it('reads back what cdktf renders for Fn.jsonencode, references included', () => {
    const stack = new TerraformStack(Testing.app(), 's');
    new AwsProvider(stack, 'aws', {});
    const bucket = new S3Bucket(stack, 'b', { bucket: 'x' });
    new IamPolicy(stack, 'p', {
      policy: Fn.jsonencode({
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Action: ['s3:GetObject'], Resource: [bucket.arn, `${bucket.arn}/*`, Fn.join('', ['arn:', bucket.id])], Condition: { NumericLessThan: { 's3:TlsVersion': 1.2 } } }],
      }),
    });
    const rendered = JSON.parse(Testing.synth(stack)).resource.aws_iam_policy.p.policy as string;
    expect(parseJsonencode(rendered)).toEqual({
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Action: ['s3:GetObject'],
          Resource: ['${aws_s3_bucket.b.arn}', '${aws_s3_bucket.b.arn}/*', '${join("", ["arn:", aws_s3_bucket.b.id])}'],
          Condition: { NumericLessThan: { 's3:TlsVersion': 1.2 } },
        },
      ],
    });
  });

  it('handles escapes, nested interpolations with quotes, identifier keys and literals', () => {
    expect(parseJsonencode('${jsonencode({a = "x\\"y", b = "${lookup(m, "k", "d")}/z", c = [true, null, -1.5e2]})}')).toEqual({
      a: 'x"y',
      b: '${lookup(m, "k", "d")}/z',
      c: [true, null, -150],
    });
  });

  it('returns undefined for anything but a single jsonencode call and throws on malformed input', () => {
    expect(parseJsonencode('${var.policy}')).toBeUndefined();
    expect(() => parseJsonencode('${jsonencode({"a" = })}')).toThrow(HclParseError);
    expect(() => parseJsonencode('${jsonencode({"a" = "unterminated})}')).toThrow(HclParseError);
  });
});
