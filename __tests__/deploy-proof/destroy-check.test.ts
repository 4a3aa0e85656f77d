/** make e2e's after-destroy proof: every instance the stack had created must come back deleted from Terraform's own refresh. */
import { leftoverAddresses, managedInstanceAddresses } from '../../scripts/e2e/aws';

const state = JSON.stringify({
  resources: [
    { mode: 'managed', type: 'aws_s3_bucket', name: 'Models', instances: [{ attributes: {} }] },
    { mode: 'managed', type: 'aws_iam_role_policy', name: 'Each', instances: [{ index_key: 'reader' }, { index_key: 'writer' }] },
    { mode: 'managed', type: 'aws_subnet', name: 'Private', instances: [{ index_key: 0 }] },
    { mode: 'data', type: 'aws_iam_policy_document', name: 'Doc', instances: [{}] },
  ],
});
const drift = (addr: string, action = 'delete') => JSON.stringify({ type: 'resource_drift', change: { resource: { addr }, action } });

describe('managedInstanceAddresses', () => {
  it('names each managed instance as Terraform does, data sources left out', () => {
    expect(managedInstanceAddresses(state)).toEqual(['aws_s3_bucket.Models', 'aws_iam_role_policy.Each["reader"]', 'aws_iam_role_policy.Each["writer"]', 'aws_subnet.Private[0]']);
  });
});

describe('leftoverAddresses', () => {
  it('is empty when the refresh reports every instance deleted', () => {
    const plan = [JSON.stringify({ type: 'version' }), drift('aws_s3_bucket.Models'), drift('aws_iam_role_policy.Each["reader"]'), drift('aws_iam_role_policy.Each["writer"]'), drift('aws_subnet.Private[0]'), ''].join('\n');
    expect(leftoverAddresses(state, plan)).toEqual([]);
  });

  it('names what the refresh still finds, or finds changed rather than deleted', () => {
    const plan = [drift('aws_s3_bucket.Models', 'update'), drift('aws_iam_role_policy.Each["reader"]'), drift('aws_subnet.Private[0]')].join('\n');
    expect(leftoverAddresses(state, plan)).toEqual(['aws_s3_bucket.Models', 'aws_iam_role_policy.Each["writer"]']);
  });

  it('accepts a reported change, not a silent read, for configurations attached to a resource that outlives them', () => {
    const plan = [drift('aws_s3_bucket.Models', 'update'), drift('aws_iam_role_policy.Each["reader"]', 'update'), drift('aws_iam_role_policy.Each["writer"]'), drift('aws_subnet.Private[0]')].join('\n');
    expect(leftoverAddresses(state, plan, new Set(['aws_s3_bucket']))).toEqual(['aws_iam_role_policy.Each["reader"]']);
    expect(leftoverAddresses(state, [drift('aws_iam_role_policy.Each["reader"]'), drift('aws_iam_role_policy.Each["writer"]'), drift('aws_subnet.Private[0]')].join('\n'), new Set(['aws_s3_bucket']))).toEqual(['aws_s3_bucket.Models']);
  });
});
