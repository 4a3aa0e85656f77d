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
// target once and polls at most every 200 ms, and a read that retries "not
// found" for consistency's sake takes the first "not found" as final. Without the variable the build
// behaves exactly as upstream (`make validate` and everything else). Every API
// call the provider makes is unchanged either way; only the sleeping differs.
//
// Usage: node scripts/aws-provider-emulator-timing.mjs PROVIDER_BUILD_DIR
// Fails (exit 1) when the waiter's code no longer looks as expected, so a new
// provider version cannot silently lose the switch.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const EMULATOR_TIMING_ENV = 'TF_AWS_EMULATOR_TIMING';
const SWITCH_FILE = 'internal/retry/emulator_timing.go';
/**
 * The edits, each to a text that must occur exactly once: `anchor` becomes `replacement`.
 * 1. State waiters (StateChangeConf): right after their own default, the switch adjusts the settings.
 * 2. Reads that retry "not found" until a timeout (tfresource.RetryWhenNotFound, e.g. every SQS
 *    queue read: 20 s for a queue that is gone): under the switch a "not found" is final.
 */
export const EDITS = [
  {
    file: 'internal/retry/state.go',
    anchor: `\tif conf.ContinuousTargetOccurence == 0 {\n\t\tconf.ContinuousTargetOccurence = 1\n\t}\n`,
    replacement: `\tif conf.ContinuousTargetOccurence == 0 {\n\t\tconf.ContinuousTargetOccurence = 1\n\t}\n\tconf.ContinuousTargetOccurence, conf.Delay, conf.MinTimeout, conf.PollInterval = emulatorTiming(conf.ContinuousTargetOccurence, conf.Delay, conf.MinTimeout, conf.PollInterval)\n`,
  },
  {
    file: 'internal/retry/op.go',
    anchor: `\t\tif NotFound(err) { // nosemgrep:ci.semgrep.errors.notfound-without-err-checks\n\t\t\ttargetOccurence = 0\n\n\t\t\treturn true, err\n\t\t}\n`,
    replacement: `\t\tif NotFound(err) { // nosemgrep:ci.semgrep.errors.notfound-without-err-checks\n\t\t\ttargetOccurence = 0\n\n\t\t\treturn !emulatorTimingOn, err\n\t\t}\n`,
  },
];

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

/** Rewrites the build copy at `providerDir`; throws, naming the file, when an anchor is missing or ambiguous. Idempotent. */
export function addEmulatorTiming(providerDir) {
  const edited = EDITS.map(({ file, anchor, replacement }) => {
    const source = readFileSync(join(providerDir, file), 'utf8');
    if (source.split(replacement).length === 2) return [file, source];
    if (source.split(anchor).length !== 2) {
      throw new Error(`${file}: expected exactly one occurrence of the code the emulator switch edits; the provider changed, update scripts/aws-provider-emulator-timing.mjs`);
    }
    return [file, source.replace(anchor, replacement)];
  });
  for (const [file, source] of edited) writeFileSync(join(providerDir, file), source);
  writeFileSync(join(providerDir, SWITCH_FILE), SWITCH_SOURCE);
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
