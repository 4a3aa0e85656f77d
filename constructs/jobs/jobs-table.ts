/**
 * The jobs table: one item per job (id, state, attempts, timestamps,
 * workflow digest, output keys, error), a (state, createdAt) index for
 * `jobs list --state`, TTL on `expiresAt` (the client sets 30 days), point-in-
 * time recovery, and encryption with the jobs KMS key.
 */
import { DynamodbTable } from '@cdktf/provider-aws/lib/dynamodb-table';
import { Construct } from 'constructs';
import { STATE_INDEX } from '../../cli/comfy/jobs/model';

export interface JobsTableProps {
  /** Table name. */
  readonly name: string;
  /** KMS key encrypting the table. */
  readonly kmsKeyArn: string;
  /** Deletion protection; a destroy needs it applied as false first. */
  readonly deletionProtection: boolean;
}

export class JobsTable extends Construct {
  /** The table. */
  public readonly table: DynamodbTable;

  constructor(scope: Construct, id: string, props: JobsTableProps) {
    super(scope, id);
    this.table = new DynamodbTable(this, 'Table', {
      name: props.name,
      // Bursty batches (1000 jobs at once, then nothing): on-demand, no capacity to tune.
      billingMode: 'PAY_PER_REQUEST',
      hashKey: 'id',
      attribute: [
        { name: 'id', type: 'S' },
        { name: 'state', type: 'S' },
        { name: 'createdAt', type: 'S' },
      ],
      globalSecondaryIndex: [{ name: STATE_INDEX, hashKey: 'state', rangeKey: 'createdAt', projectionType: 'ALL' }],
      ttl: { attributeName: 'expiresAt', enabled: true },
      pointInTimeRecovery: { enabled: true },
      serverSideEncryption: { enabled: true, kmsKeyArn: props.kmsKeyArn },
      deletionProtectionEnabled: props.deletionProtection,
    });
  }
}
