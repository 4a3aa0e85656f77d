/**
 * Every taggable AWS resource carries the required tags, through its
 * provider's default_tags (how PlatformStack tags everything) or its own
 * `tags`. Resources without a `tags` argument are exempt; so is everything
 * that is not an AWS resource.
 */
import { REQUIRED_TAG_KEYS } from './allow-lists';
import { PolicyFinding, PolicyRule } from './rule';
import { Attributes, blocks, StackView } from './stack-view';

function present(tags: Attributes, key: string): boolean {
  const value = tags[key];
  return typeof value === 'string' && value.length > 0;
}

export class RequiredTagsRule implements PolicyRule {
  public readonly id = 'COMFY-TAG-001';
  public readonly summary = `Every taggable AWS resource gets ${REQUIRED_TAG_KEYS.join(', ')} from its provider's default_tags or its own tags.`;

  public check(view: StackView): PolicyFinding[] {
    const findings: PolicyFinding[] = [];
    for (const resource of view.resources) {
      if (!resource.type.startsWith('aws_') || !resource.taggable) continue;
      const provider = view.providerOf(resource);
      const defaults: Attributes = Object.assign({}, ...blocks(provider?.attributes.default_tags).map((d) => (typeof d.tags === 'object' && d.tags !== null ? d.tags : {})));
      const own = typeof resource.attributes.tags === 'object' && resource.attributes.tags !== null ? (resource.attributes.tags as Attributes) : {};
      const missing = REQUIRED_TAG_KEYS.filter((k) => !present(defaults, k) && !present(own, k));
      if (missing.length > 0) {
        const providerName = provider ? `provider ${provider.type}${provider.alias ? `.${provider.alias}` : ''}` : 'the implicit aws provider (none is configured in this stack)';
        findings.push({
          construct: resource.construct,
          message: `resource is missing required tag(s) ${missing.join(', ')}: ${providerName} has no such default_tags; give it defaultTags: [{ tags: defaultTags(config) }]`,
        });
      }
    }
    return findings;
  }
}
