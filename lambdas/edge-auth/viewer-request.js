// CloudFront Function (cloudfront-js-2.0) on the viewer-request event of every
// behaviour. HTTP Basic authentication against a CloudFront KeyValueStore:
//   user:<name>     hex SHA-256 of "<name>:<password>" (UTF-8)
//   session:secret  HMAC key of session cookies
// A valid Basic credential passes (Authorization removed, so the password
// never reaches the origin). A browser navigation with one is first
// redirected once to set a signed session cookie: Safari sends no Basic
// credentials on WebSocket handshakes, but it sends cookies, so /ws works in
// every browser. Anything else gets 401 + WWW-Authenticate so browsers prompt.
// Cross-site writes and WebSocket handshakes are refused (403): browsers
// attach cached Basic credentials to them.
//
// Runtime limits (tested in __tests__/edge/auth-function.test.ts): 10 KB of
// code, no eval/timers/network, ES 5.1 plus const/let, arrow functions and a
// top-level async handler. The construct fills in the store id, realm and
// session lifetime placeholders; the code holds no dollar-brace or
// percent-brace sequence, which Terraform would read as a template.
import cf from 'cloudfront';

const crypto = require('crypto');

const kvs = cf.kvs('__KVS_ID__');
const CHALLENGE = 'Basic realm="__REALM__", charset="UTF-8"';
const SESSION_SECONDS = Number('__SESSION_SECONDS__');
const SESSION_COOKIE = '__Host-comfyui-session';
// Marks the request that follows the cookie redirect, so a browser that
// refuses cookies is never redirected twice.
const SESSION_MARKER = 'edge-session';
const USERNAME = /^[A-Za-z0-9._@-]{1,64}$/;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
const EXPIRY = /^[0-9]{1,12}$/;
// Longer headers are refused before decoding (64-byte user + generous password).
const MAX_HEADER_LENGTH = 1024;
const DIGEST_LENGTH = 64;

function reply(statusCode, statusDescription, text) {
  return {
    statusCode: statusCode,
    statusDescription: statusDescription,
    headers: {
      'cache-control': { value: 'no-store' },
      'content-type': { value: 'text/plain; charset=utf-8' },
    },
    body: text + '\n',
  };
}

function unauthorized() {
  const response = reply(401, 'Unauthorized', 'Authentication required.');
  response.headers['www-authenticate'] = { value: CHALLENGE };
  return response;
}

function header(request, name) {
  const entry = request.headers[name];
  return entry ? entry.value : '';
}

// Browsers send Origin on cross-origin writes and WebSocket handshakes.
function crossSite(request) {
  const origin = header(request, 'origin');
  if (origin === '') return false;
  const read = request.method === 'GET' || request.method === 'HEAD' || request.method === 'OPTIONS';
  const websocket = header(request, 'sec-websocket-key') !== '';
  return (!read || websocket) && origin !== 'https://' + header(request, 'host');
}

// Returns { username, password } from `Basic <base64(user:pass)>`, or null.
function parseBasic(value) {
  if (value.length > MAX_HEADER_LENGTH) return null;
  const trimmed = value.trim();
  const space = trimmed.indexOf(' ');
  // The scheme is case-insensitive (RFC 7617), the token follows one or more spaces.
  if (space < 1 || trimmed.slice(0, space).toLowerCase() !== 'basic') return null;
  const token = trimmed.slice(space + 1).trim();
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

// `<username>~<expiry seconds>~<signature>`, or null.
function parseSession(request) {
  const cookie = request.cookies[SESSION_COOKIE];
  if (!cookie) return null;
  const parts = cookie.value.split('~');
  if (parts.length !== 3 || !USERNAME.test(parts[0]) || !EXPIRY.test(parts[1])) return null;
  return { username: parts[0], expiry: Number(parts[1]), signature: parts[2] };
}

// Compares a secret-derived string in time independent of where it differs.
function same(expected, actual, length) {
  let diff = typeof expected === 'string' && expected.length === length && actual.length === length ? 0 : 1;
  const reference = diff === 0 ? expected : actual;
  for (let i = 0; i < length; i++) {
    diff |= reference.codePointAt(i) ^ actual.codePointAt(i);
  }
  return diff === 0;
}

// The stored hash is signed too: a new password or a deleted user ends the user's sessions.
function sign(secret, username, expiry, stored) {
  return crypto.createHmac('sha256', secret).update('v1~' + username + '~' + expiry + '~' + stored).digest('base64url');
}

async function lookup(key) {
  try {
    return await kvs.get(key, { format: 'string' });
  } catch (err) {
    // Missing key, or the store is unreachable: callers fail closed.
    return null;
  }
}

function navigation(request) {
  const mode = header(request, 'sec-fetch-mode');
  return request.method === 'GET' && (mode === 'navigate' || (mode === '' && header(request, 'accept').indexOf('text/html') !== -1));
}

function queryString(query) {
  const pairs = [];
  Object.keys(query).forEach((name) => {
    const entry = query[name];
    const values = entry.multiValue ? entry.multiValue : [entry];
    values.forEach((item) => pairs.push(item.value === '' ? name : name + '=' + item.value));
  });
  return pairs.join('&');
}

function startSession(request, username, stored, secret, now) {
  const expiry = now + SESSION_SECONDS;
  const query = queryString(request.querystring);
  const response = reply(302, 'Found', 'Session started.');
  response.headers.location = { value: request.uri + '?' + (query === '' ? '' : query + '&') + SESSION_MARKER + '=1' };
  response.cookies = {};
  response.cookies[SESSION_COOKIE] = {
    value: username + '~' + expiry + '~' + sign(secret, username, expiry, stored),
    attributes: 'Secure; HttpOnly; SameSite=Strict; Path=/; Max-Age=' + SESSION_SECONDS,
  };
  return response;
}

// The origin needs neither the credentials nor the marker.
function forward(request) {
  delete request.headers.authorization;
  delete request.cookies[SESSION_COOKIE];
  delete request.querystring[SESSION_MARKER];
  return request;
}

async function handler(event) {
  const request = event.request;
  if (crossSite(request)) return reply(403, 'Forbidden', 'Cross-site request refused.');
  const credentials = parseBasic(header(request, 'authorization'));
  const session = parseSession(request);
  if (credentials === null && session === null) return unauthorized();

  const now = Math.floor(Date.now() / 1000);
  const username = credentials !== null ? credentials.username : session.username;
  const stored = await lookup('user:' + username);

  if (credentials !== null) {
    const digest = crypto.createHash('sha256').update(username + ':' + credentials.password).digest('hex');
    if (!same(stored, digest, DIGEST_LENGTH)) return unauthorized();
    const current = session !== null && session.username === username && session.expiry - now > SESSION_SECONDS / 2;
    if (!current && navigation(request) && !request.querystring[SESSION_MARKER]) {
      const secret = await lookup('session:secret');
      if (secret !== null) return startSession(request, username, stored, secret, now);
    }
    return forward(request);
  }

  if (stored === null || session.expiry <= now || session.expiry > now + SESSION_SECONDS) return unauthorized();
  const secret = await lookup('session:secret');
  if (secret === null) return unauthorized();
  const expected = sign(secret, username, session.expiry, stored);
  return same(expected, session.signature, expected.length) ? forward(request) : unauthorized();
}
