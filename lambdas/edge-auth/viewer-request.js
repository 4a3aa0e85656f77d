// CloudFront Function (cloudfront-js-2.0), viewer-request event of every
// behaviour: HTTP Basic authentication against hashed credentials kept in a
// CloudFront KeyValueStore under `user:<username>`, value = hex SHA-256 of
// "<username>:<password>" (UTF-8). A missing, malformed or wrong credential
// gets 401 + WWW-Authenticate so browsers prompt; a valid one passes with the
// Authorization header removed, so the password never reaches the origin.
//
// Runtime limits (tested in __tests__/edge/auth-function.test.ts): 10 KB of
// code, no eval/timers/network, ES 5.1 plus const/let, arrow functions,
// template literals and a top-level async handler. The construct fills in the
// store id and realm placeholders; the code holds no dollar-brace or
// percent-brace sequence, which Terraform would read as a template.
import cf from 'cloudfront';

const crypto = require('crypto');

const kvs = cf.kvs('__KVS_ID__');
const CHALLENGE = 'Basic realm="__REALM__", charset="UTF-8"';
const USERNAME = /^[A-Za-z0-9._@-]{1,64}$/;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
// Longer headers are refused before decoding (64-byte user + generous password).
const MAX_HEADER_LENGTH = 1024;
const DIGEST_LENGTH = 64;

function unauthorized() {
  return {
    statusCode: 401,
    statusDescription: 'Unauthorized',
    headers: {
      'www-authenticate': { value: CHALLENGE },
      'cache-control': { value: 'no-store' },
      'content-type': { value: 'text/plain; charset=utf-8' },
    },
    body: 'Authentication required.\n',
  };
}

// Returns { username, password } from `Basic <base64(user:pass)>`, or null.
function parseBasic(header) {
  if (typeof header !== 'string' || header.length > MAX_HEADER_LENGTH) return null;
  const value = header.trim();
  const space = value.indexOf(' ');
  // The scheme is case-insensitive (RFC 7617), the token follows one or more spaces.
  if (space < 1 || value.slice(0, space).toLowerCase() !== 'basic') return null;
  const token = value.slice(space + 1).trim();
  if (token.length % 4 !== 0 || !BASE64.test(token)) return null;
  const decoded = Buffer.from(token, 'base64').toString('utf8');
  // U+FFFD means the bytes were not UTF-8 (e.g. a Latin-1 client): refuse rather than guess.
  if (decoded.indexOf('\uFFFD') !== -1) return null;
  const colon = decoded.indexOf(':');
  if (colon < 1) return null;
  const username = decoded.slice(0, colon);
  if (!USERNAME.test(username)) return null;
  return { username: username, password: decoded.slice(colon + 1) };
}

// Compares two hex digests in time independent of where they differ.
function digestsEqual(expected, actual) {
  let diff = typeof expected === 'string' && expected.length === DIGEST_LENGTH ? 0 : 1;
  const reference = diff === 0 ? expected : actual;
  for (let i = 0; i < DIGEST_LENGTH; i++) {
    diff |= reference.codePointAt(i) ^ actual.codePointAt(i);
  }
  return diff === 0;
}

async function handler(event) {
  const request = event.request;
  const authorization = request.headers.authorization;
  const credentials = authorization ? parseBasic(authorization.value) : null;
  if (credentials === null) return unauthorized();

  let stored = null;
  try {
    stored = await kvs.get('user:' + credentials.username, { format: 'string' });
  } catch (err) {
    // Unknown user, or the store is unreachable: fail closed, after the same hashing work.
    stored = null;
  }
  const digest = crypto.createHash('sha256').update(credentials.username + ':' + credentials.password).digest('hex');
  if (stored === null || !digestsEqual(stored, digest)) return unauthorized();

  delete request.headers.authorization;
  return request;
}
