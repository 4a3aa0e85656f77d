/** The static checker flags what the cloudfront-js-2.0 runtime lacks, so a clean result means something. */
import { checkCloudFrontFunction } from './cloudfront-function-rules';

const ok = (body: string) => `${body}\nfunction handler(event) { return event.request; }\n`;

describe('checkCloudFrontFunction', () => {
  it('accepts a minimal handler using documented features', () => {
    const code = "import cf from 'cloudfront';\nconst crypto = require('crypto');\nconst kvs = cf.kvs('id');\nasync function handler(event) {\n  const v = await kvs.get('k');\n  return crypto.createHash('sha256').update(v).digest('hex') ? event.request : event.request;\n}\n";
    expect(checkCloudFrontFunction(code)).toEqual([]);
  });

  it.each([
    ['eval', ok("eval('1');")],
    ['Function constructor', ok("const f = new Function('a', 'return a');")],
    ['timers', ok('setTimeout(function () {}, 1);')],
    ['process', ok('const e = process.env;')],
    ['network', ok("fetch('https://example.com');")],
    ['Map', ok('const m = new Map();')],
    ['for...of', ok('for (const x of [1]) { x; }')],
    ['spread', ok('const a = [...[1]];')],
    ['destructuring', ok('const { a } = { a: 1 };')],
    ['optional chaining', ok('const a = {}; a?.b;')],
    ['nullish coalescing', ok('const a = null ?? 1;')],
    ['class', ok('class A {}')],
    ['generator', ok('function* g() { yield 1; }')],
    ['default parameter', ok('function f(a = 1) { return a; }')],
    ['async arrow (closure)', ok('const f = async () => 1;')],
    ['nested async function', 'async function handler(event) { async function inner() { return 1; } return event.request; }'],
    ['unavailable module', ok("const fs = require('fs');")],
    ['named import', ok("import { kvs } from 'cloudfront';")],
    ['other import', ok("import x from 'lodash';")],
    ['undocumented method', ok("'a'.localeCompare('b');")],
    ['console.log with commas', ok("console.log('a', 'b');")],
    ['Terraform interpolation', ok("const s = 'a' + '${x}';")],
    ['no handler', 'function main(event) { return event.request; }'],
  ])('flags %s', (_name, code) => {
    expect(checkCloudFrontFunction(code).length).toBeGreaterThan(0);
  });
});
