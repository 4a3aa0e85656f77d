/** The edge section of the config: defaults and clear errors naming the field. */
import { defaultConfig, parseConfig } from '../../config';
import { boundedName } from '../../constructs/edge/names';

function errorsOf(input: unknown): string {
  const result = parseConfig(input);
  if (result.ok) throw new Error('expected the config to be rejected');
  return result.errors.join('\n');
}

describe('edge config', () => {
  it('defaults: basic auth, no users in config, a per-IP WAF rate limit, 4000 s ALB idle timeout, VPC-origin security group, 60 s origin timeouts', () => {
    const { edge } = defaultConfig();
    expect(edge.auth).toMatchObject({ mode: 'basic', realm: 'ComfyUI' });
    expect(edge.auth.users).toBeUndefined();
    expect(edge.waf).toMatchObject({ enabled: false, rateLimit: { enabled: true, requests: 3000, windowSeconds: 300 } });
    expect(edge.alb).toMatchObject({ idleTimeoutSeconds: 4000, deregistrationDelaySeconds: 600, healthCheckPath: '/system_stats', allowFrom: 'vpc-origin-security-group', deletionProtection: false });
    expect(edge.alb.https).toBeUndefined();
    expect(edge.cloudfront).toEqual({ originReadTimeoutSeconds: 60, originKeepaliveTimeoutSeconds: 60 });
  });

  it.each([
    [{ edge: { auth: { mode: 'cognito' } } }, 'edge.customDomain: must be set when auth.mode is cognito'],
    [{ edge: { auth: { mode: 'none' } } }, 'edge.auth.acknowledgeUnauthenticated: must be true'],
    [{ edge: { auth: { users: [{ username: 'ann', passwordSha256: 'a'.repeat(64) }] } } }, 'edge.auth.users: removed: basic-auth users are written only by scripts/edge-user.sh put'],
    [{ edge: { waf: { rateLimit: { windowSeconds: 30 } } } }, 'edge.waf.rateLimit.windowSeconds'],
    [{ edge: { waf: { rateLimit: { requests: 5 } } } }, 'edge.waf.rateLimit.requests'],
    [{ edge: { auth: { realm: 'x" y' } } }, 'edge.auth.realm: must be 1-64 letters'],
    [{ edge: { alb: { idleTimeoutSeconds: 5000 } } }, 'edge.alb.idleTimeoutSeconds: '],
    [{ edge: { alb: { allowFrom: '0.0.0.0/0' } } }, 'edge.alb.allowFrom: must be one of'],
    [{ edge: { cloudfront: { originReadTimeoutSeconds: 300 } } }, 'edge.cloudfront.originReadTimeoutSeconds: '],
    [
      { edge: { alb: { https: { certificateArn: 'arn:aws:acm:eu-west-1:123456789012:certificate/0f0e0d0c-0b0a-0908-0706-050403020100', originDomainName: 'origin.example.com' } } } },
      'edge.alb.https.certificateArn: must be an ACM certificate in the deployment region us-west-2',
    ],
    [{ edge: { alb: { https: { certificateArn: 'arn:aws:acm:us-west-2:123456789012:certificate/0f0e0d0c-0b0a-0908-0706-050403020100' } } } }, 'edge.alb.https.originDomainName: must be string'],
    [{ edge: { waf: { allowCidrs: ['203.0.113.1/24'] } } }, 'edge.waf.allowCidrs.0: must be an IPv4 CIDR block with zero host bits'],
  ])('%j -> %s', (input, expected) => {
    expect(errorsOf(input)).toContain(expected);
  });

  it('accepts allow-list CIDRs in the upper half of the address space', () => {
    const result = parseConfig({ edge: { waf: { enabled: true, allowCidrs: ['203.0.113.0/24', '198.51.100.0/24', '192.0.2.128/25'] } } });
    expect(result.ok).toBe(true);
  });
});

describe('boundedName', () => {
  it('keeps short names as they are', () => {
    expect(boundedName('comfyui-dev', 'edge', 32)).toBe('comfyui-dev-edge');
  });

  it('shortens long names deterministically and keeps them distinct', () => {
    const a = boundedName('averyveryverylongname-production-eu', 'comfyui', 32);
    const b = boundedName('averyveryverylongname-production-us', 'comfyui', 32);
    expect(a.length).toBeLessThanOrEqual(32);
    expect(a).toMatch(/-comfyui$/);
    expect(a).not.toBe(b);
    expect(boundedName('averyveryverylongname-production-eu', 'comfyui', 32)).toBe(a);
  });
});
