/** The provider CHANGELOG check between the pinned release and the build used here. */
import { argumentsOf, blocking, relevantChanges } from '../../scripts/e2e/changelog';

const CHANGELOG = `## 6.48.0 (Unreleased)

BREAKING CHANGES:

* resource/aws_sqs_queue: Removes \`redrive_policy\` in favor of aws_sqs_queue_redrive_policy

ENHANCEMENTS:

* data-source/aws_partition: Deprecates \`id\` in favor of \`partition\`
* resource/aws_s3_bucket: Adds \`new_thing\`
* resource/aws_mq_broker: Removes \`thing\`

## 6.25.0 (December 4, 2025)

BREAKING CHANGES:

* resource/aws_sqs_queue: Removes \`name\`
`;

const stacks = [
  {
    tf: {
      resource: { aws_sqs_queue: { Q: { name: 'q', redrive_policy: '{}' } }, aws_s3_bucket: { B: { bucket: 'b' } } },
      data: { aws_partition: { P: {} } },
    },
  },
];

describe('relevantChanges', () => {
  const entries = relevantChanges(CHANGELOG, '6.25.0', argumentsOf(stacks, '${data.aws_partition.P.partition}'));

  it('keeps removals, deprecations and breaking changes of types we use, after the pinned release only', () => {
    expect(entries.map((e) => `${e.version} ${e.subject}`)).toEqual(['6.48.0 resource/aws_sqs_queue', '6.48.0 data-source/aws_partition']);
  });

  it('flags the arguments we set, not the replacement a deprecation points to', () => {
    expect(entries[0].argumentsWeSet).toEqual(['redrive_policy']);
    expect(entries[1].argumentsWeSet).toEqual([]);
    expect(blocking(entries).map((e) => e.subject)).toEqual(['resource/aws_sqs_queue']);
  });
});
