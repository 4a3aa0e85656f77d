// Converts CustomResourceDefinition YAML files into strict JSON schemas that
// kubeconform reads offline: one file per served version at
// <outdir>/<group>/<kind>_<version>.json (kind lowercased), the layout of
// kubeconform's `{{ .Group }}/{{ .ResourceKind }}_{{ .ResourceAPIVersion }}`
// schema location. "Strict" means unknown fields are rejected: every object
// schema with declared properties gets additionalProperties: false, unless the
// CRD lets it keep unknown fields (x-kubernetes-preserve-unknown-fields).
//
// Usage: node scripts/crd-to-jsonschema.mjs <outdir> <crd.yaml>...
import { mkdirSync, readFileSync, writeFileSync } from 'fs';
import { join } from 'path';
import { parseAllDocuments } from 'yaml';

/** Returns a copy of an OpenAPI v3 structural schema as strict JSON schema. */
function strict(schema) {
  if (Array.isArray(schema)) return schema.map(strict);
  if (schema === null || typeof schema !== 'object') return schema;
  const out = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key === 'nullable') continue; // folded into `type` below
    out[key] = key === 'enum' || key === 'required' ? value : strict(value);
  }
  if (schema.nullable === true && typeof schema.type === 'string') out.type = [schema.type, 'null'];
  const isObject = schema.type === 'object' || schema.properties !== undefined;
  if (isObject && schema.properties && schema.additionalProperties === undefined && !schema['x-kubernetes-preserve-unknown-fields']) {
    out.additionalProperties = false;
  }
  return out;
}

const [outdir, ...files] = process.argv.slice(2);
if (!outdir || files.length === 0) {
  console.error('usage: node scripts/crd-to-jsonschema.mjs <outdir> <crd.yaml>...');
  process.exit(2);
}
let written = 0;
for (const file of files) {
  for (const doc of parseAllDocuments(readFileSync(file, 'utf8'))) {
    const crd = doc.toJS();
    if (crd?.kind !== 'CustomResourceDefinition') continue;
    const { group, names, versions } = crd.spec;
    for (const version of versions) {
      const body = version.schema?.openAPIV3Schema;
      if (!version.served || !body) continue;
      const schema = strict(body);
      // The API server fills these; a manifest must carry them exactly.
      schema.properties = {
        ...schema.properties,
        apiVersion: { type: 'string', enum: [`${group}/${version.name}`] },
        kind: { type: 'string', enum: [names.kind] },
        metadata: { type: 'object' },
      };
      schema.required = [...new Set([...(schema.required ?? []), 'apiVersion', 'kind', 'metadata'])];
      schema.additionalProperties = false;
      const dir = join(outdir, group);
      mkdirSync(dir, { recursive: true });
      const target = join(dir, `${names.kind.toLowerCase()}_${version.name}.json`);
      writeFileSync(target, JSON.stringify(schema, null, 2) + '\n');
      console.log(`wrote ${target}`);
      written += 1;
    }
  }
}
if (written === 0) {
  console.error(`no served CRD versions found in ${files.join(', ')}`);
  process.exit(1);
}
