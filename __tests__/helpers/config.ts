import { ConfigInput, parseConfig, PlatformConfig } from '../../config';

/** A validated config from a partial input; throws with the field errors otherwise. */
export function testConfig(input: ConfigInput = {}): PlatformConfig {
  const result = parseConfig(input);
  if (!result.ok) throw new Error(`test config is invalid:\n${result.errors.join('\n')}`);
  return result.config;
}
