/**
 * The execution role of a Lambda function: only the Lambda service of this
 * account may assume it (aws:SourceAccount), named `<function>-lambda`. The
 * caller attaches the function's own permissions. Created directly in the
 * caller's scope (ids `AssumeRole` and `Role`), so adopting it changes no
 * Terraform address.
 */
import { DataAwsIamPolicyDocument } from '@cdktf/provider-aws/lib/data-aws-iam-policy-document';
import { IamRole } from '@cdktf/provider-aws/lib/iam-role';
import { Construct } from 'constructs';

export interface LambdaExecutionRoleProps {
  /** Function name; the role is `<functionName>-lambda`. */
  readonly functionName: string;
  /** What the function does (IAM description). */
  readonly description: string;
  /** Account id (token) whose Lambda service may assume the role. */
  readonly accountId: string;
}

export function lambdaExecutionRole(scope: Construct, props: LambdaExecutionRoleProps): IamRole {
  const assumeRole = new DataAwsIamPolicyDocument(scope, 'AssumeRole', {
    statement: [
      {
        effect: 'Allow',
        actions: ['sts:AssumeRole'],
        principals: [{ type: 'Service', identifiers: ['lambda.amazonaws.com'] }],
        condition: [{ test: 'StringEquals', variable: 'aws:SourceAccount', values: [props.accountId] }],
      },
    ],
  });
  return new IamRole(scope, 'Role', { name: `${props.functionName}-lambda`, description: props.description, assumeRolePolicy: assumeRole.json });
}
