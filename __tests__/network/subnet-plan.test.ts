import { parseIpv4Cidr } from '../../config';
import { planSubnets } from '../../constructs/network/subnet-plan';

const range = (cidr: string) => {
  const { address, prefix } = parseIpv4Cidr(cidr)!;
  return { start: address, end: address + 2 ** (32 - prefix) - 1, prefix };
};

describe('planSubnets', () => {
  it('carves /18 private and /22 public subnets from the default /16 with 3 AZs', () => {
    expect(planSubnets('10.2.0.0/16', 3)).toMatchObject({
      privateCidrs: ['10.2.0.0/18', '10.2.64.0/18', '10.2.128.0/18'],
      publicCidrs: ['10.2.192.0/22', '10.2.196.0/22', '10.2.200.0/22'],
    });
  });

  it('still fits 4 AZs into the smallest allowed VPC (/20)', () => {
    expect(planSubnets('10.9.16.0/20', 4)).toMatchObject({
      privateCidrs: ['10.9.16.0/23', '10.9.18.0/23', '10.9.20.0/23', '10.9.22.0/23'],
      publicCidrs: ['10.9.24.0/27', '10.9.24.32/27', '10.9.24.64/27', '10.9.24.96/27'],
    });
  });

  describe.each([16, 17, 18, 19, 20])('a /%i VPC', (prefix) => {
    it.each([2, 3, 4])('with %i AZs: subnets inside the VPC, disjoint, private 16x larger than public', (azCount) => {
      const vpc = `172.16.0.0/${prefix}`;
      const plan = planSubnets(vpc, azCount);
      expect(plan.privateCidrs).toHaveLength(azCount);
      expect(plan.publicCidrs).toHaveLength(azCount);

      const all = [...plan.privateCidrs, ...plan.publicCidrs].map(range);
      const outer = range(vpc);
      for (const r of all) {
        expect(r.start).toBeGreaterThanOrEqual(outer.start);
        expect(r.end).toBeLessThanOrEqual(outer.end);
        expect(r.prefix).toBeLessThanOrEqual(28);
      }
      const sorted = [...all].sort((a, b) => a.start - b.start);
      for (let i = 1; i < sorted.length; i++) expect(sorted[i].start).toBeGreaterThan(sorted[i - 1].end);

      expect(range(plan.publicCidrs[0]).prefix - range(plan.privateCidrs[0]).prefix).toBe(4);
    });
  });

  it('refuses a block too small for the public subnets, naming the field', () => {
    expect(() => planSubnets('10.0.0.0/24', 3)).toThrow('network.cidr: 10.0.0.0/24 is too small for 3 AZs');
    expect(() => planSubnets('nonsense', 3)).toThrow('network.cidr: must be an IPv4 CIDR block');
  });
});

describe('planSubnets: dedicated load balancer subnets (issue 18 item 2)', () => {
  const range = (cidr: string): [number, number] => {
    const [ip, prefix] = cidr.split('/');
    const base = ip.split('.').reduce((a, o) => a * 256 + Number(o), 0);
    return [base, base + 2 ** (32 - Number(prefix)) - 1];
  };
  it.each([
    ['10.2.0.0/16', 3],
    ['10.2.0.0/20', 4],
    ['10.0.0.0/16', 2],
    ['172.16.0.0/20', 6],
  ])('%s with %i AZs: one ALB subnet per AZ, at least /27, overlapping no other subnet; private and public unchanged', (cidr, azs) => {
    const plan = planSubnets(cidr, azs);
    expect(plan.albCidrs).toHaveLength(azs);
    const all = [...plan.privateCidrs, ...plan.publicCidrs, ...plan.albCidrs];
    for (const alb of plan.albCidrs) expect(Number(alb.split('/')[1])).toBeLessThanOrEqual(27);
    for (let i = 0; i < all.length; i++) {
      for (let j = i + 1; j < all.length; j++) {
        const [a0, a1] = range(all[i]);
        const [b0, b1] = range(all[j]);
        expect({ pair: [all[i], all[j]], overlap: a0 <= b1 && b0 <= a1 }).toEqual({ pair: [all[i], all[j]], overlap: false });
      }
    }
    const [v0, v1] = range(cidr);
    for (const alb of plan.albCidrs) expect(range(alb)[0] >= v0 && range(alb)[1] <= v1).toBe(true);
  });

  it('keeps the documented 10.2.0.0/16 layout and adds /24 ALB subnets after the public ones', () => {
    expect(planSubnets('10.2.0.0/16', 3)).toEqual({
      privateCidrs: ['10.2.0.0/18', '10.2.64.0/18', '10.2.128.0/18'],
      publicCidrs: ['10.2.192.0/22', '10.2.196.0/22', '10.2.200.0/22'],
      albCidrs: ['10.2.224.0/24', '10.2.225.0/24', '10.2.226.0/24'],
    });
  });
});
