/**
 * Fake outputs of the upstream stacks, shaped like the real contracts, so the
 * app stack can be synthesized on its own.
 */
import { App, Testing } from 'cdktf';
import { ConfigInput } from '../../config';
import { AppStack } from '../../stacks/app-stack';
import { testConfig } from '../helpers/config';
import { FAKE_CLUSTER, FAKE_EDGE, FAKE_NETWORK, FAKE_STORAGE } from '../helpers/fake-outputs';

export const CLUSTER = FAKE_CLUSTER;

export const STORAGE = FAKE_STORAGE;

export const EDGE = FAKE_EDGE;

export const NETWORK = FAKE_NETWORK;

/** Synthesizes the app stack with the fake upstream outputs. */
export function synthApp(input: ConfigInput = {}, app: App = Testing.app()) {
  const config = testConfig(input);
  // The edge stack creates the wake queue only in autoscaling mode keda.
  const edge = config.app.autoscaling.mode === 'keda' ? EDGE : { ...EDGE, wakeQueue: undefined };
  const stack = new AppStack(app, 'comfyui-dev-app', { config, cluster: CLUSTER, storage: STORAGE, edge, network: NETWORK });
  const synth = Testing.synth(stack);
  return { stack, synth, parsed: JSON.parse(synth) };
}
