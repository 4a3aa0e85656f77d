#!/usr/bin/env node
// Derives which service packages of hashicorp/terraform-provider-aws the
// synthesized stacks need, and (with --cut) rewrites the provider's two
// generated registries in a writable build copy so `go build` compiles only
// those services (minutes instead of the whole 2,000-package provider).
// The list comes from the `aws_*` resource and data source types in the
// synthesized cdk.tf.json files, never from a hand-kept list.
//
// Usage:
//   node scripts/aws-provider-services.mjs --provider DIR STACKDIR...          prints the services, one a line
//   node scripts/aws-provider-services.mjs --provider DIR --cut STACKDIR...    also rewrites DIR's generated files
//   --types                                                                      print the aws_* types instead of the services
// STACKDIR is a cdktf output directory (with stacks/*/cdk.tf.json).
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const SERVICE_REGISTRY = 'internal/provider/sdkv2/service_packages_gen.go';
const CLIENT_REGISTRY = 'internal/conns/awsclient_gen.go';

/** Every `aws_*` resource and data source type in the stacks of the given cdktf output dirs. */
export function synthesizedAwsTypes(outdirs) {
  const types = new Set();
  for (const outdir of outdirs) {
    const stacksDir = join(outdir, 'stacks');
    if (!existsSync(stacksDir)) throw new Error(`${stacksDir} not found: synthesize first`);
    for (const stack of readdirSync(stacksDir)) {
      const file = join(stacksDir, stack, 'cdk.tf.json');
      if (!existsSync(file)) continue;
      const tf = JSON.parse(readFileSync(file, 'utf8'));
      for (const block of [tf.resource ?? {}, tf.data ?? {}, tf.ephemeral ?? {}]) {
        for (const type of Object.keys(block)) if (type.startsWith('aws_')) types.add(type);
      }
    }
  }
  return [...types].sort();
}

/** Map of Terraform type name -> service package, from each package's generated registration. */
export function typeOwners(providerDir) {
  const owners = new Map();
  const serviceRoot = join(providerDir, 'internal/service');
  for (const pkg of readdirSync(serviceRoot)) {
    const gen = join(serviceRoot, pkg, 'service_package_gen.go');
    if (!existsSync(gen)) continue;
    for (const m of readFileSync(gen, 'utf8').matchAll(/TypeName:\s*"(aws_[a-z0-9_]+)"/g)) owners.set(m[1], pkg);
  }
  return owners;
}

/** Service packages owning the types; throws naming any type no package registers. */
export function servicesFor(types, owners) {
  const unknown = types.filter((t) => !owners.has(t));
  if (unknown.length > 0) {
    throw new Error(`no service package of the provider registers ${unknown.join(', ')} (renamed or removed upstream? see the provider CHANGELOG)`);
  }
  return [...new Set(types.map((t) => owners.get(t)))].sort();
}

function goFiles(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...goFiles(path));
    else if (name.endsWith('.go') && !name.endsWith('_test.go')) out.push(path);
  }
  return out;
}

/**
 * Rewrites the two generated registries so only `services` are registered and
 * only the AWS SDK clients some compiled code calls are referenced. Service
 * packages that the kept ones import are compiled too, so their client calls count.
 */
export function cutProvider(providerDir, services) {
  const serviceRoot = join(providerDir, 'internal/service');
  const clientsPath = join(providerDir, CLIENT_REGISTRY);
  const clients = readFileSync(clientsPath, 'utf8');
  // Client accessor -> the service package that must be registered for it to work
  // (the accessor looks its client factory up among the registered packages).
  const namesPath = join(providerDir, 'names/consts_gen.go');
  const names = new Map(existsSync(namesPath) ? [...readFileSync(namesPath, 'utf8').matchAll(/^\t([A-Za-z0-9]+)\s*=\s*"([a-z0-9]+)"$/gm)].map((m) => [m[1], m[2]]) : []);
  const owner = new Map(
    [...clients.matchAll(/\nfunc \(c \*AWSClient\) ([A-Za-z0-9]+)\(ctx context\.Context\)[^\n]*\{\n[^\n]*names\.([A-Za-z0-9]+)[,)]/g)]
      .map((m) => [m[1], names.get(m[2])])
      .filter(([, pkg]) => pkg && existsSync(join(serviceRoot, pkg))),
  );

  // Client accessors called by compiled code: everything under internal/ that is
  // built into the provider binary and is not a service package, plus the
  // compiled service packages (test helpers and generators are not built in).
  const called = new Set();
  const scan = (file) => {
    for (const m of readFileSync(file, 'utf8').matchAll(/\.([A-Z][A-Za-z0-9]*Client)\(ctx\)/g)) called.add(m[1]);
  };
  for (const name of readdirSync(join(providerDir, 'internal'))) {
    const path = join(providerDir, 'internal', name);
    if (['service', 'acctest', 'generate', 'sweep'].includes(name) || !statSync(path).isDirectory()) continue;
    goFiles(path).filter((f) => !f.endsWith('awsclient_gen.go')).forEach(scan);
  }
  const compiled = new Set();
  const pending = [...services];
  while (pending.length > 0) {
    const pkg = pending.pop();
    if (compiled.has(pkg)) continue;
    compiled.add(pkg);
    for (const file of goFiles(join(serviceRoot, pkg))) {
      const text = readFileSync(file, 'utf8');
      for (const m of text.matchAll(/"github\.com\/hashicorp\/terraform-provider-aws\/internal\/service\/([a-z0-9]+)["/]/g)) pending.push(m[1]);
      for (const m of text.matchAll(/\.([A-Z][A-Za-z0-9]*Client)\(ctx\)/g)) called.add(m[1]);
    }
    for (const method of called) if (owner.has(method)) pending.push(owner.get(method));
  }
  // Calls found in non-service code after the loop started are covered too.
  for (const method of called) if (owner.has(method) && !compiled.has(owner.get(method))) throw new Error(`client ${method} of ${owner.get(method)} called but not compiled`);
  const registeredSet = [...compiled].filter((pkg) => existsSync(join(serviceRoot, pkg, 'service_package_gen.go'))).sort();

  // service_packages_gen.go: keep the kept packages' imports and constructor calls.
  const registryPath = join(providerDir, SERVICE_REGISTRY);
  const registry = readFileSync(registryPath, 'utf8');
  const keptRegistry = registry
    .split('\n')
    .filter((line) => {
      const imp = line.match(/^\t"github\.com\/hashicorp\/terraform-provider-aws\/internal\/service\/([a-z0-9]+)"$/);
      if (imp) return registeredSet.includes(imp[1]);
      const call = line.match(/^\t\t([a-z0-9]+)\.ServicePackage\(ctx\),$/);
      if (call) return registeredSet.includes(call[1]);
      return true;
    })
    .join('\n');
  const registered = [...keptRegistry.matchAll(/^\t\t([a-z0-9]+)\.ServicePackage\(ctx\),$/gm)].map((m) => m[1]);
  if (registered.length !== registeredSet.length) {
    throw new Error(`${SERVICE_REGISTRY}: expected ${registeredSet.length} service packages after the cut, found ${registered.length} (generator format changed?)`);
  }
  writeFileSync(registryPath, keptRegistry);

  // awsclient_gen.go: drop accessor methods nothing calls, then the SDK imports they used.
  const methodRe = /\nfunc \(c \*AWSClient\) ([A-Za-z0-9]+)\(ctx context\.Context\) \*([a-z0-9]+)\.Client \{\n[^\n]*\n\}\n/g;
  const keptSdk = new Set();
  let keptMethods = 0;
  let body = clients.replace(methodRe, (whole, method, sdkPkg) => {
    if (!called.has(method)) return '';
    keptSdk.add(sdkPkg);
    keptMethods += 1;
    return whole;
  });
  body = body
    .split('\n')
    .filter((line) => {
      const imp = line.match(/^\t"github\.com\/aws\/aws-sdk-go-v2\/service\/([a-z0-9]+)"$/);
      return imp ? keptSdk.has(imp[1]) : true;
    })
    .join('\n');
  writeFileSync(clientsPath, body);
  return { compiled: [...compiled].sort(), registered: registeredSet, clients: keptMethods };
}

/**
 * Rewrites the kept service packages' generated registrations
 * (service_package_gen.go) so they register only `types`: the provider then
 * builds the schema of the 70-odd types the stacks use instead of 400-odd
 * (the schema is computed by every provider process Terraform starts, several
 * per command). Each registration is a `\t\t{ ... \t\t},` block with one
 * `TypeName:`; imports only the removed blocks used become blank imports, so
 * the file still compiles. Throws, naming the file, on a layout it does not know.
 */
export function cutTypes(providerDir, packages, types) {
  const wanted = new Set(types);
  let before = 0;
  let after = 0;
  for (const pkg of packages) {
    const path = join(providerDir, 'internal/service', pkg, 'service_package_gen.go');
    if (!existsSync(path)) continue;
    const lines = readFileSync(path, 'utf8').split('\n');
    const kept = [];
    let block;
    for (const line of lines) {
      if (line === '\t\t{') {
        if (block) throw new Error(`${path}: a registration block opens inside another (generator layout changed?)`);
        block = [line];
      } else if (block) {
        block.push(line);
        if (line === '\t\t},') {
          const names = [...block.join('\n').matchAll(/^\t\t\tTypeName:\s*"([a-z0-9_]+)",$/gm)].map((m) => m[1]);
          if (names.length > 1) throw new Error(`${path}: a registration block with ${names.length} TypeName lines (generator layout changed?)`);
          if (names.length === 1) before += 1;
          if (names.length === 0 || wanted.has(names[0])) {
            kept.push(...block);
            if (names.length === 1) after += 1;
          }
          block = undefined;
        }
      } else kept.push(line);
    }
    if (block) throw new Error(`${path}: a registration block never closes (generator layout changed?)`);
    let text = kept.join('\n');
    const start = text.indexOf('\nimport (\n');
    const end = text.indexOf('\n)\n', start);
    const body = start < 0 ? '' : text.slice(end);
    const imports = start < 0 ? '' : text
      .slice(start, end)
      .split('\n')
      .map((line) => {
        const m = /^\t(?:([A-Za-z0-9_]+) )?"([^"]+)"$/.exec(line);
        if (!m || m[1] === '_') return line;
        const name = m[1] ?? m[2].split('/').pop();
        return new RegExp(`\\b${name}\\.`).test(body) ? line : `\t_ "${m[2]}"`;
      })
      .join('\n');
    if (start >= 0) text = text.slice(0, start) + imports + body;
    const typeNames = (source) => new Set([...source.matchAll(/^\t\t\tTypeName:\s*"([a-z0-9_]+)",$/gm)].map((m) => m[1]));
    const left = typeNames(text);
    const missing = [...typeNames(lines.join('\n'))].filter((t) => wanted.has(t) && !left.has(t));
    if (missing.length > 0) throw new Error(`${path}: ${missing.join(', ')} lost by the cut`);
    writeFileSync(path, text);
  }
  return { before, after };
}

function main(argv) {
  const args = [...argv];
  let providerDir;
  let cut = false;
  let printTypes = false;
  const outdirs = [];
  while (args.length > 0) {
    const arg = args.shift();
    if (arg === '--provider') providerDir = args.shift();
    else if (arg === '--cut') cut = true;
    else if (arg === '--types') printTypes = true;
    else outdirs.push(arg);
  }
  if (!providerDir || outdirs.length === 0) {
    process.stderr.write('usage: aws-provider-services.mjs --provider DIR [--cut] STACKDIR...\n');
    return 2;
  }
  try {
    const types = synthesizedAwsTypes(outdirs);
    const services = servicesFor(types, typeOwners(providerDir));
    if (cut) {
      const { compiled, registered, clients } = cutProvider(providerDir, services);
      process.stderr.write(`aws provider cut: ${types.length} aws_* types -> ${services.length} service packages own them; ${registered.length} registered (with those whose clients they call), ${compiled.length} compiled, ${clients} SDK clients\n`);
      const { before, after } = cutTypes(providerDir, registered, types);
      process.stderr.write(`aws provider cut: registered types: ${after} of ${before} in the kept service packages\n`);
    }
    process.stdout.write(`${(printTypes ? types : services).join('\n')}\n`);
    return 0;
  } catch (error) {
    process.stderr.write(`aws-provider-services: ${error.message}\n`);
    return 1;
  }
}

if (import.meta.url === `file://${process.argv[1]}`) process.exitCode = main(process.argv.slice(2));
