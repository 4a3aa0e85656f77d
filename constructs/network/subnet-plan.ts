/**
 * Carves per-AZ subnets out of the VPC block, computed at synth time so the
 * plan shows literal CIDRs and tests can check them.
 *
 * Private subnets get the bulk of the space: with the VPC CNI every pod takes
 * a VPC address, and GPU nodes plus the internal ALB live there. The VPC is
 * split into 2^n equal blocks (the smallest n leaving one block spare for
 * `azCount` AZs); AZ i gets private block i. Public subnets only hold the NAT
 * gateways (and room for a future public load balancer), so they are 1/16 of
 * a private block each, carved from the first spare block; the rest of that
 * block stays free for later use.
 *
 * The internal ALB gets subnets of its own (issue 18 item 2), carved from
 * the second half of that spare block: nothing else runs there, so the
 * chart's NetworkPolicy can admit the load balancer by CIDR without
 * admitting every node and pod of the private subnets. They are at least
 * /27 (the ALB minimum) and at most 1/64 of a private block.
 *
 *   10.2.0.0/16, 3 AZs -> private /18 (16,379 usable IPs each), public /22, ALB /24
 *   10.2.0.0/20, 4 AZs -> private /23 (507 usable IPs each), public /27, ALB /27
 */
import { parseIpv4Cidr } from '../../config/schema';

/** CIDR blocks for one VPC, index i belonging to AZ i. */
export interface SubnetPlan {
  /** One private subnet CIDR per AZ. */
  readonly privateCidrs: string[];
  /** One public subnet CIDR per AZ. */
  readonly publicCidrs: string[];
  /** One load balancer subnet CIDR per AZ (the internal ALB only). */
  readonly albCidrs: string[];
}

/** How many more prefix bits a public subnet has than a private one (1/16 of its size). */
const PUBLIC_EXTRA_BITS = 4;
/** AWS allows subnets from /16 down to /28. */
const SMALLEST_SUBNET_PREFIX = 28;
/** An ALB subnet needs at least a /27 (and 8 free addresses). */
const SMALLEST_ALB_SUBNET_PREFIX = 27;
/** ALB subnets are 1/64 of a private block when that is at least a /27. */
const ALB_EXTRA_BITS = 6;

function formatIpv4(address: number): string {
  return [24, 16, 8, 0].map((shift) => (address >>> shift) & 0xff).join('.');
}

/** The `index`-th block of `newPrefix` inside `base` (Terraform's cidrsubnet). */
function subnet(base: { address: number; prefix: number }, newPrefix: number, index: number): string {
  const size = 2 ** (32 - newPrefix);
  return `${formatIpv4((base.address + index * size) >>> 0)}/${newPrefix}`;
}

/** Plans private and public subnets for `azCount` AZs in `vpcCidr`; throws with the reason if it cannot. */
export function planSubnets(vpcCidr: string, azCount: number): SubnetPlan {
  const vpc = parseIpv4Cidr(vpcCidr);
  if (!vpc) throw new Error(`network.cidr: must be an IPv4 CIDR block, got ${vpcCidr}`);
  if (!Number.isInteger(azCount) || azCount < 1) throw new Error(`network.azCount: must be a positive integer, got ${azCount}`);

  const privateBits = Math.ceil(Math.log2(azCount + 1));
  const privatePrefix = vpc.prefix + privateBits;
  const publicPrefix = privatePrefix + PUBLIC_EXTRA_BITS;
  if (publicPrefix > SMALLEST_SUBNET_PREFIX) {
    throw new Error(`network.cidr: ${vpcCidr} is too small for ${azCount} AZs (public subnets would be /${publicPrefix}; AWS allows /28 at most)`);
  }

  const privateCidrs = Array.from({ length: azCount }, (_, i) => subnet(vpc, privatePrefix, i));
  const spare = parseIpv4Cidr(subnet(vpc, privatePrefix, azCount))!;
  const publicCidrs = Array.from({ length: azCount }, (_, i) => subnet(spare, publicPrefix, i));
  const albPrefix = Math.min(privatePrefix + ALB_EXTRA_BITS, SMALLEST_ALB_SUBNET_PREFIX);
  const albBlock = parseIpv4Cidr(subnet(spare, privatePrefix + 1, 1))!;
  if (azCount * 2 ** (32 - albPrefix) > 2 ** (32 - albBlock.prefix)) {
    throw new Error(`network.cidr: ${vpcCidr} is too small for ${azCount} AZs (each AZ needs a /${SMALLEST_ALB_SUBNET_PREFIX} load balancer subnet besides its private and public subnets)`);
  }
  const albCidrs = Array.from({ length: azCount }, (_, i) => subnet(albBlock, albPrefix, i));
  return { privateCidrs, publicCidrs, albCidrs };
}
