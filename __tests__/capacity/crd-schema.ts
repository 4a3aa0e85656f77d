/**
 * Turns a CustomResourceDefinition's openAPIV3Schema into a JSON Schema that
 * ajv can check rendered objects against, with the API server's structural
 * rules made explicit: an object with declared properties rejects unknown
 * fields (additionalProperties: false) unless the CRD preserves them, and a
 * `set` list rejects duplicates. CEL rules (x-kubernetes-validations) are not
 * JSON Schema; they are returned so a test can count and check them itself.
 */
import Ajv, { ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { parse } from 'yaml';

/** A CEL rule of the CRD, with the schema path it sits on. */
export interface CelRule {
  readonly path: string;
  readonly rule: string;
  readonly message?: string;
}

function convert(node: any, path: string, rules: CelRule[]): any {
  if (Array.isArray(node)) return node.map((n, i) => convert(n, `${path}[${i}]`, rules));
  if (node === null || typeof node !== 'object') return node;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(node)) {
    if (key === 'x-kubernetes-validations') {
      for (const v of value as Array<{ rule: string; message?: string }>) rules.push({ path, rule: v.rule, message: v.message });
      continue;
    }
    if (key.startsWith('x-kubernetes-')) continue;
    if (key === 'properties') {
      out.properties = Object.fromEntries(Object.entries(value as object).map(([k, v]) => [k, convert(v, `${path}.${k}`, rules)]));
    } else {
      out[key] = convert(value, `${path}.${key}`, rules);
    }
  }
  if (node.type === 'object' && node.properties && node.additionalProperties === undefined && !node['x-kubernetes-preserve-unknown-fields']) {
    out.additionalProperties = false;
  }
  if (node['x-kubernetes-list-type'] === 'set') out.uniqueItems = true;
  return out;
}

/** ObjectMeta as these manifests use it: a DNS-1123 name, labels, annotations. */
const objectMeta = {
  type: 'object',
  additionalProperties: false,
  required: ['name'],
  properties: {
    name: { type: 'string', pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$', maxLength: 253 },
    labels: { type: 'object', additionalProperties: { type: 'string' } },
    annotations: { type: 'object', additionalProperties: { type: 'string' } },
  },
};

/** The JSON Schema and CEL rules of one served version of a CRD file. */
export function crdSchema(crdYaml: string, version: string): { schema: any; rules: CelRule[]; group: string; kind: string } {
  const crd = parse(crdYaml);
  const served = crd.spec.versions.find((v: any) => v.name === version);
  if (!served) throw new Error(`CRD ${crd.metadata.name} has no version ${version}`);
  const rules: CelRule[] = [];
  const schema = convert(served.schema.openAPIV3Schema, '', rules);
  schema.properties.metadata = objectMeta;
  schema.required = [...new Set([...(schema.required ?? []), 'apiVersion', 'kind', 'metadata', 'spec'])];
  return { schema, rules, group: crd.spec.group, kind: crd.spec.names.kind };
}

/** An ajv validator for a converted CRD schema. */
export function compileCrdSchema(schema: any): ValidateFunction {
  // strictSchema: an unknown keyword is an error. strictTypes is off: int-or-string fields put a
  // string pattern next to anyOf [integer, string], which is valid JSON Schema.
  const ajv = new Ajv({ allErrors: true, strictSchema: true, strictTypes: false, strictRequired: false });
  addFormats(ajv);
  // Kubernetes integer formats: ajv-formats does not define them.
  ajv.addFormat('int32', { type: 'number', validate: (n: number) => Number.isInteger(n) && n >= -(2 ** 31) && n < 2 ** 31 });
  ajv.addFormat('int64', { type: 'number', validate: (n: number) => Number.isSafeInteger(n) });
  return ajv.compile(schema);
}
