/**
 * Fake upstream values for the capacity tests: the contract fields as plain
 * strings, as the cluster, storage and network stacks would provide them.
 */
import { Testing } from 'cdktf';
import { ConfigInput } from '../../config';
import { CapacityStack } from '../../stacks/capacity-stack';
import { ClusterAddonsStack } from '../../stacks/cluster-addons-stack';
import { testConfig } from '../helpers/config';
import { FAKE_ACCOUNT, FAKE_CAPACITY, FAKE_CLUSTER, FAKE_EDGE, FAKE_NETWORK, FAKE_STORAGE } from '../helpers/fake-outputs';

export const ACCOUNT = FAKE_ACCOUNT;

export const fakeCluster = FAKE_CLUSTER;

export const fakeStorage = FAKE_STORAGE;

export const fakeCapacity = FAKE_CAPACITY;

export const fakeNetwork = FAKE_NETWORK;

/** A MIME multi-part document with the characters that break naive embedding. */
export const fakeUserData = [
  'MIME-Version: 1.0',
  'Content-Type: multipart/mixed; boundary="//"',
  '',
  '--//',
  'Content-Type: text/x-shellscript; charset="us-ascii"',
  '',
  '#!/usr/bin/env bash',
  'echo "models at ${MODELS_DIR:-/mnt/models}" \\',
  '  && true',
  '--//--',
  '',
].join('\n');

/** Synthesizes the capacity stack; returns the JSON text and the parsed document. */
export function synthCapacity(input: ConfigInput = {}) {
  const app = Testing.app();
  const stack = new CapacityStack(app, 'capacity', { config: testConfig(input), cluster: fakeCluster, storage: fakeStorage, network: FAKE_NETWORK, edge: FAKE_EDGE });
  const synth = Testing.synth(stack);
  return { stack, synth, parsed: JSON.parse(synth) };
}

/** Synthesizes the cluster-addons stack; returns the JSON text and the parsed document. */
export function synthAddons(input: ConfigInput = {}, nodeUserData: string = fakeUserData) {
  const app = Testing.app();
  const stack = new ClusterAddonsStack(app, 'addons', {
    config: testConfig(input),
    cluster: fakeCluster,
    capacity: fakeCapacity,
    network: fakeNetwork,
    nodeUserData,
  });
  const synth = Testing.synth(stack);
  return { stack, synth, parsed: JSON.parse(synth) };
}

/** helm_release blocks by release name. */
export function releasesByName(parsed: any): Record<string, any> {
  return Object.fromEntries(Object.values(parsed.resource.helm_release as Record<string, any>).map((r) => [r.name, r]));
}

/** The (single) values document of a release, parsed. */
export function releaseValues(release: any): any {
  expect(release.values).toHaveLength(1);
  return JSON.parse(release.values[0]);
}
