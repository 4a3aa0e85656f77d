/**
 * Static checks of CloudFront Functions code against the documented
 * cloudfront-js-2.0 runtime (AWS "JavaScript runtime 2.0 features for
 * CloudFront Functions"): ES 5.1 plus const/let, arrow functions, template
 * literals, rest parameters, exponentiation and async/await in a top-level
 * handler; no eval/Function, timers, process, network or file system; only
 * the documented built-in methods and modules. Parsed with the TypeScript
 * compiler API, so the checks see syntax, not text.
 */
import * as ts from 'typescript';

/** Modules the runtime provides: `import cf from 'cloudfront'` and `require('crypto')`/`require('querystring')`. */
const IMPORTABLE = new Set(['cloudfront', 'crypto']);
const REQUIRABLE = new Set(['crypto', 'querystring']);

/** Identifiers the runtime lacks or forbids. */
const FORBIDDEN_IDENTIFIERS = new Set([
  'eval', 'Function', 'setTimeout', 'setInterval', 'setImmediate', 'clearTimeout', 'clearInterval', 'queueMicrotask',
  'process', 'fetch', 'XMLHttpRequest', 'WebSocket', 'Map', 'Set', 'WeakMap', 'WeakSet', 'WeakRef', 'Proxy', 'Reflect',
  'Intl', 'BigInt', 'URL', 'URLSearchParams', 'structuredClone', 'module', 'exports', '__dirname', '__filename',
]);

/** Methods documented for the runtime's built-ins, modules and helpers (any receiver). */
const DOCUMENTED_METHODS = new Set([
  // String
  'charAt', 'concat', 'indexOf', 'lastIndexOf', 'match', 'replace', 'search', 'slice', 'split', 'substr', 'substring',
  'toLowerCase', 'toUpperCase', 'trim', 'codePointAt', 'endsWith', 'includes', 'repeat', 'startsWith', 'padStart',
  'padEnd', 'trimStart', 'trimEnd', 'replaceAll', 'fromCharCode', 'fromCodePoint', 'toString', 'valueOf',
  // Array
  'isArray', 'of', 'every', 'filter', 'forEach', 'join', 'map', 'pop', 'push', 'reduce', 'reduceRight', 'reverse',
  'shift', 'some', 'sort', 'splice', 'unshift', 'copyWithin', 'fill', 'find', 'findIndex',
  // Object
  'create', 'defineProperties', 'defineProperty', 'freeze', 'getOwnPropertyDescriptor', 'getOwnPropertyDescriptors',
  'getOwnPropertyNames', 'getPrototypeOf', 'isExtensible', 'isFrozen', 'isSealed', 'keys', 'preventExtensions', 'seal',
  'assign', 'entries', 'values', 'hasOwnProperty', 'isPrototypeOf', 'propertyIsEnumerable', 'is', 'setPrototypeOf',
  // Number, Math, JSON, RegExp, Promise, Function
  'isFinite', 'isInteger', 'isNaN', 'isSafeInteger', 'parseInt', 'parseFloat', 'toExponential', 'toFixed', 'toPrecision',
  'abs', 'ceil', 'floor', 'max', 'min', 'pow', 'random', 'round', 'sign', 'sqrt', 'trunc', 'log', 'log2', 'log10',
  'parse', 'stringify', 'exec', 'test', 'all', 'allSettled', 'any', 'reject', 'resolve', 'race', 'catch', 'finally',
  'then', 'apply', 'bind', 'call', 'getTime', 'toISOString', 'now',
  // Buffer
  'alloc', 'allocUnsafe', 'byteLength', 'compare', 'from', 'isBuffer', 'isEncoding', 'copy', 'equals', 'subarray',
  'toJSON', 'write', 'readUInt8', 'readUInt16BE', 'readUInt32BE', 'readInt8', 'readInt16BE', 'readInt32BE',
  // TextEncoder/TextDecoder, crypto, querystring, cloudfront helpers, console
  'decode', 'encode', 'encodeInto', 'createHash', 'createHmac', 'update', 'digest', 'escape', 'unescape', 'stringify',
  'kvs', 'get', 'exists', 'meta', 'logCustomData', 'updateRequestOrigin', 'selectRequestOriginById',
]);

/** One finding: what is wrong and where (1-based line). */
export interface RuleViolation {
  readonly line: number;
  readonly message: string;
}

/** Returns every use of a feature the cloudfront-js-2.0 runtime does not document. */
export function checkCloudFrontFunction(code: string): RuleViolation[] {
  const source = ts.createSourceFile('function.js', code, ts.ScriptTarget.ES2022, true, ts.ScriptKind.JS);
  const violations: RuleViolation[] = [];
  const report = (node: ts.Node, message: string) =>
    violations.push({ line: source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1, message });

  if (code.includes('${') || code.includes('%{')) {
    violations.push({ line: 0, message: 'contains a Terraform template sequence (dollar-brace or percent-brace)' });
  }

  let handlerFound = false;
  for (const statement of source.statements) {
    if (ts.isFunctionDeclaration(statement) && statement.name?.text === 'handler') {
      handlerFound = statement.parameters.length === 1;
    }
  }
  if (!handlerFound) violations.push({ line: 0, message: 'no top-level `function handler(event)`' });

  const visit = (node: ts.Node, insideAsync: boolean, depth: number) => {
    // Syntax the runtime does not list.
    if (ts.isClassDeclaration(node) || ts.isClassExpression(node)) report(node, 'class syntax is not supported');
    if (ts.isForOfStatement(node)) report(node, 'for...of is not supported');
    if (ts.isSpreadElement(node) || ts.isSpreadAssignment(node)) report(node, 'spread syntax is not supported');
    if (ts.isObjectBindingPattern(node) || ts.isArrayBindingPattern(node)) report(node, 'destructuring is not supported');
    if (ts.isBinaryExpression(node) && ts.isArrayLiteralExpression(node.left) && node.operatorToken.kind === ts.SyntaxKind.EqualsToken) {
      report(node, 'destructuring assignment is not supported');
    }
    if (node.kind === ts.SyntaxKind.QuestionDotToken) report(node, 'optional chaining is not supported');
    if (ts.isBinaryExpression(node) && node.operatorToken.kind === ts.SyntaxKind.QuestionQuestionToken) report(node, 'nullish coalescing is not supported');
    if (ts.isBigIntLiteral(node)) report(node, 'BigInt is not supported');
    if (ts.isTaggedTemplateExpression(node)) report(node, 'tagged templates are not supported');
    if (ts.isParameter(node) && node.initializer) report(node, 'default parameters are not supported');
    if ((ts.isFunctionDeclaration(node) || ts.isFunctionExpression(node)) && node.asteriskToken) report(node, 'generators are not supported');
    if (ts.isYieldExpression(node)) report(node, 'generators are not supported');
    if (ts.isExportAssignment(node) || ts.isExportDeclaration(node) || (ts.canHaveModifiers(node) && ts.getModifiers(node)?.some((m) => m.kind === ts.SyntaxKind.ExportKeyword))) {
      report(node, 'exports are not supported');
    }

    // async only on top-level function declarations ("async arguments and closures are not supported").
    const isFunction = ts.isFunctionDeclaration(node) || ts.isFunctionExpression(node) || ts.isArrowFunction(node) || ts.isMethodDeclaration(node);
    const isAsync = isFunction && (ts.getModifiers(node as ts.FunctionLikeDeclaration)?.some((m) => m.kind === ts.SyntaxKind.AsyncKeyword) ?? false);
    if (isAsync && !(ts.isFunctionDeclaration(node) && depth === 0)) report(node, 'async is only supported on top-level function declarations');
    if (ts.isAwaitExpression(node) && !insideAsync) report(node, 'await outside a top-level async function');

    // Modules.
    if (ts.isImportDeclaration(node)) {
      const from = (node.moduleSpecifier as ts.StringLiteral).text;
      const clause = node.importClause;
      if (!IMPORTABLE.has(from)) report(node, `module ${from} is not available`);
      if (!clause || !clause.name || clause.namedBindings) report(node, `only a default import is supported (import x from '${from}')`);
    }
    if (ts.isCallExpression(node) && ts.isIdentifier(node.expression) && node.expression.text === 'require') {
      const arg = node.arguments[0];
      if (!arg || !ts.isStringLiteral(arg) || !REQUIRABLE.has(arg.text)) report(node, `require(${arg ? arg.getText(source) : ''}) is not available`);
    }

    // Forbidden globals (as references, not as property names).
    if (ts.isIdentifier(node) && FORBIDDEN_IDENTIFIERS.has(node.text)) {
      const parent = node.parent;
      const isPropertyName =
        (ts.isPropertyAccessExpression(parent) && parent.name === node) || (ts.isPropertyAssignment(parent) && parent.name === node);
      if (!isPropertyName) report(node, `${node.text} is not available`);
    }

    // Only documented methods; console.log takes one argument (no comma syntax).
    if (ts.isCallExpression(node) && ts.isPropertyAccessExpression(node.expression)) {
      const method = node.expression.name.text;
      if (!DOCUMENTED_METHODS.has(method)) report(node, `.${method}() is not a documented runtime method`);
      if (method === 'log' && node.arguments.length !== 1) report(node, 'console.log takes exactly one argument');
    }

    const childInsideAsync = isFunction ? isAsync : insideAsync;
    const childDepth = isFunction ? depth + 1 : depth;
    ts.forEachChild(node, (child) => visit(child, childInsideAsync, childDepth));
  };
  ts.forEachChild(source, (child) => visit(child, false, 0));
  return violations;
}
