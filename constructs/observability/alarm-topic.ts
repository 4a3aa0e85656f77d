/**
 * The SNS topic platform alarms notify: encrypted with its own KMS key
 * (CloudWatch cannot publish to a topic under the AWS-managed aws/sns key),
 * a topic policy that lets only CloudWatch alarms of this account whose
 * names start with the platform prefix publish, TLS only, and optional
 * email subscriptions (each address confirms once, by the link AWS sends).
 */
import { DataAwsIamPolicyDocument } from '@cdktf/provider-aws/lib/data-aws-iam-policy-document';
import { KmsAlias } from '@cdktf/provider-aws/lib/kms-alias';
import { KmsKey } from '@cdktf/provider-aws/lib/kms-key';
import { AwsProvider } from '@cdktf/provider-aws/lib/provider';
import { SnsTopic } from '@cdktf/provider-aws/lib/sns-topic';
import { SnsTopicPolicy } from '@cdktf/provider-aws/lib/sns-topic-policy';
import { SnsTopicSubscription } from '@cdktf/provider-aws/lib/sns-topic-subscription';
import { Construct } from 'constructs';

export interface AlarmTopicProps {
  /** Topic name (also the KMS alias suffix). */
  readonly topicName: string;
  /** Prefix of the alarm names allowed to publish (`<prefix>-`). */
  readonly alarmNamePrefix: string;
  /** Region of the topic and of the alarms publishing to it. */
  readonly region: string;
  /** Account id (token). */
  readonly accountId: string;
  /** AWS partition (token). */
  readonly partition: string;
  /** Email addresses subscribed to the topic. */
  readonly emails: readonly string[];
  /** Provider of the topic's region. Default: the stack's. */
  readonly provider?: AwsProvider;
}

export class AlarmTopic extends Construct {
  /** The topic. */
  public readonly topic: SnsTopic;
  /** Its ARN (alarm actions). */
  public readonly topicArn: string;
  /** The key encrypting it. */
  public readonly key: KmsKey;

  constructor(scope: Construct, id: string, props: AlarmTopicProps) {
    super(scope, id);
    const { provider } = props;
    const alarmArnPattern = `arn:${props.partition}:cloudwatch:${props.region}:${props.accountId}:alarm:${props.alarmNamePrefix}-*`;
    const accountRoot = `arn:${props.partition}:iam::${props.accountId}:root`;

    const keyPolicy = new DataAwsIamPolicyDocument(this, 'KeyPolicy', {
      provider,
      statement: [
        {
          sid: 'AccountAdministersKey',
          effect: 'Allow',
          principals: [{ type: 'AWS', identifiers: [accountRoot] }],
          actions: ['kms:*'],
          resources: ['*'],
        },
        {
          sid: 'CloudWatchAlarmsEncryptMessages',
          effect: 'Allow',
          principals: [{ type: 'Service', identifiers: ['cloudwatch.amazonaws.com'] }],
          actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
          resources: ['*'],
          condition: [
            { test: 'StringEquals', variable: 'aws:SourceAccount', values: [props.accountId] },
            { test: 'ArnLike', variable: 'aws:SourceArn', values: [alarmArnPattern] },
          ],
        },
      ],
    });
    this.key = new KmsKey(this, 'Key', {
      provider,
      description: `Encrypts the ${props.topicName} alarm topic`,
      enableKeyRotation: true,
      deletionWindowInDays: 30,
      policy: keyPolicy.json,
    });
    new KmsAlias(this, 'KeyAlias', { provider, name: `alias/${props.topicName}`, targetKeyId: this.key.keyId });

    this.topic = new SnsTopic(this, 'Topic', { provider, name: props.topicName, kmsMasterKeyId: this.key.arn });
    this.topicArn = this.topic.arn;

    const topicPolicy = new DataAwsIamPolicyDocument(this, 'TopicPolicyDocument', {
      provider,
      statement: [
        {
          sid: 'PlatformAlarmsPublish',
          effect: 'Allow',
          principals: [{ type: 'Service', identifiers: ['cloudwatch.amazonaws.com'] }],
          actions: ['sns:Publish'],
          resources: [this.topic.arn],
          condition: [
            { test: 'StringEquals', variable: 'aws:SourceAccount', values: [props.accountId] },
            { test: 'ArnLike', variable: 'aws:SourceArn', values: [alarmArnPattern] },
          ],
        },
        {
          sid: 'AccountManagesSubscriptions',
          effect: 'Allow',
          principals: [{ type: 'AWS', identifiers: [accountRoot] }],
          actions: ['sns:GetTopicAttributes', 'sns:Subscribe', 'sns:ListSubscriptionsByTopic'],
          resources: [this.topic.arn],
        },
        {
          sid: 'DenyInsecureTransport',
          effect: 'Deny',
          principals: [{ type: '*', identifiers: ['*'] }],
          actions: ['sns:Publish', 'sns:Subscribe'],
          resources: [this.topic.arn],
          condition: [{ test: 'Bool', variable: 'aws:SecureTransport', values: ['false'] }],
        },
      ],
    });
    new SnsTopicPolicy(this, 'TopicPolicy', { provider, arn: this.topic.arn, policy: topicPolicy.json });

    props.emails.forEach((email, index) => {
      new SnsTopicSubscription(this, `Email${index}`, { provider, topicArn: this.topic.arn, protocol: 'email', endpoint: email });
    });
  }
}
