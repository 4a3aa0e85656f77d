#!/usr/bin/env node
// Adds an opt-in "emulator timing" switch to a writable build copy of
// hashicorp/terraform-provider-aws (scripts/install-tools.sh aws-provider).
//
// Why: the provider waits out AWS's eventual consistency. Its state waiters
// (internal/retry StateChangeConf) require a target state to be seen up to 15
// times in a row, 2-10 s apart, after every create, update and delete of
// queues, keys, buckets, tags... (an SQS queue: about 25 s to create, 45 s to
// delete). moto has no eventual consistency: the first answer is final. Those
// waits made `make e2e` spend most of its minutes asleep.
//
// What: when the provider process runs with TF_AWS_EMULATOR_TIMING=1 (only
// `make e2e` sets it, against moto on 127.0.0.1), every state waiter needs the
// target once and polls at most every 200 ms. Without the variable the build
// behaves exactly as upstream (`make validate` and everything else). Every API
// call the provider makes is unchanged either way; only the sleeping differs.
//
// Usage: node scripts/aws-provider-emulator-timing.mjs PROVIDER_BUILD_DIR
// Fails (exit 1) when the waiter's code no longer looks as expected, so a new
// provider version cannot silently lose the switch.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const EMULATOR_TIMING_ENV = 'TF_AWS_EMULATOR_TIMING';
const STATE_FILE = 'internal/retry/state.go';
const SWITCH_FILE = 'internal/retry/emulator_timing.go';
/** The line after which the switch goes: the waiter's own default for ContinuousTargetOccurence. */
const ANCHOR = `\tif conf.ContinuousTargetOccurence == 0 {\n\t\tconf.ContinuousTargetOccurence = 1\n\t}\n`;
const CALL = `\tconf.ContinuousTargetOccurence, conf.Delay, conf.MinTimeout, conf.PollInterval = emulatorTiming(conf.ContinuousTargetOccurence, conf.Delay, conf.MinTimeout, conf.PollInterval)\n`;

const SWITCH_SOURCE = `// Code added by the comfyui-eks build (scripts/aws-provider-emulator-timing.mjs); not upstream.

package retry

import (
	"os"
	"time"
)

// emulatorMaxPoll bounds the wait between refreshes under ${EMULATOR_TIMING_ENV}=1.
const emulatorMaxPoll = 200 * time.Millisecond

// emulatorTimingOn is read once: ${EMULATOR_TIMING_ENV}=1 means the endpoints are an emulator without eventual consistency.
var emulatorTimingOn = os.Getenv("${EMULATOR_TIMING_ENV}") == "1"

// emulatorTiming returns the waiter settings unchanged, or, against an emulator,
// one sighting of the target state and refreshes at most emulatorMaxPoll apart.
func emulatorTiming(occurrences int, delay, minTimeout, pollInterval time.Duration) (int, time.Duration, time.Duration, time.Duration) {
	if !emulatorTimingOn {
		return occurrences, delay, minTimeout, pollInterval
	}
	return 1, min(delay, emulatorMaxPoll), min(minTimeout, emulatorMaxPoll), emulatorMaxPoll
}
`;

/** Rewrites the build copy at `providerDir`; throws when the anchor is missing or ambiguous. */
export function addEmulatorTiming(providerDir) {
  const stateFile = join(providerDir, STATE_FILE);
  const source = readFileSync(stateFile, 'utf8');
  const at = source.indexOf(ANCHOR);
  if (at < 0 || source.indexOf(ANCHOR, at + 1) >= 0) {
    throw new Error(`${STATE_FILE}: expected exactly one ContinuousTargetOccurence default in WaitForStateContext; the provider's waiter changed, update scripts/aws-provider-emulator-timing.mjs`);
  }
  if (source.includes(CALL)) return false;
  writeFileSync(stateFile, source.slice(0, at + ANCHOR.length) + CALL + source.slice(at + ANCHOR.length));
  writeFileSync(join(providerDir, SWITCH_FILE), SWITCH_SOURCE);
  return true;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const dir = process.argv[2];
  if (!dir) {
    process.stderr.write('usage: node scripts/aws-provider-emulator-timing.mjs PROVIDER_BUILD_DIR\n');
    process.exit(2);
  }
  try {
    addEmulatorTiming(dir);
  } catch (error) {
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  }
}
