// Basics of the HTTP surface: health, metrics, the OpenAPI document against the route table,
// 404/405 answers and the security headers.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startServer, Client, parseRoutes, expectStatus, expectError, ADMIN_PW, rawRequest, assertErrorsWellFormed,
} from './lib/server.mjs';

let srv;
let anon;

before(async () => {
  srv = await startServer();
  anon = new Client(srv.base);
});

after(async () => {
  if (srv) await srv.stop();
});

test('GET /healthz answers {"status":"ok"} as JSON', async () => {
  const res = expectStatus(await anon.get('/healthz'), 200);
  assert.match(res.headers.get('content-type'), /^application\/json/);
  assert.deepEqual(res.json, { status: 'ok' });
});

test('HEAD /healthz answers 200 without a body', async () => {
  const res = await anon.request('HEAD', '/healthz');
  assert.equal(res.status, 200);
  assert.equal(res.text, '');
});

/** Parses Prometheus text format 0.0.4 into {families: {name: type}, samples: [{name, labels, value}]}. */
function parseProm(text) {
  const families = {};
  const samples = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    if (line.startsWith('#')) {
      const m = /^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.+)$/.exec(line);
      assert.ok(m, `bad comment line: ${line}`);
      if (m[1] === 'TYPE') {
        assert.match(m[3], /^(counter|gauge|histogram|summary|untyped)$/, line);
        families[m[2]] = m[3];
      }
      continue;
    }
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([^}]*)\})? (-?[0-9.]+(?:[eE][+-]?\d+)?|NaN|[+-]Inf)$/.exec(line);
    assert.ok(m, `bad sample line: ${JSON.stringify(line)}`);
    const labels = {};
    if (m[3]) {
      for (const part of m[3].split(',')) {
        const lm = /^([a-zA-Z_][a-zA-Z0-9_]*)="([^"]*)"$/.exec(part);
        assert.ok(lm, `bad label in ${line}`);
        labels[lm[1]] = lm[2];
      }
    }
    samples.push({ name: m[1], labels, value: Number(m[4]) });
  }
  for (const s of samples) {
    assert.ok(families[s.name], `sample ${s.name} has no # TYPE line`);
  }
  return { families, samples };
}

function sample(p, name, labels = {}) {
  const s = p.samples.find((x) => x.name === name &&
    Object.entries(labels).every(([k, v]) => x.labels[k] === v));
  assert.ok(s, `no sample ${name} ${JSON.stringify(labels)}`);
  return s.value;
}

test('GET /metrics is Prometheus text whose counters count requests and logins', async () => {
  const res1 = expectStatus(await anon.get('/metrics'), 200);
  assert.match(res1.headers.get('content-type'), /^text\/plain/);
  const p1 = parseProm(res1.text);
  assert.equal(p1.families.edubrain_http_requests_total, 'counter');
  const counters = Object.entries(p1.families).filter(([, t]) => t === 'counter');
  assert.ok(counters.length >= 2, 'expected several counters');
  for (const [name] of counters) assert.match(name, /_total$/, `counter ${name} should end in _total`);

  const req1 = sample(p1, 'edubrain_http_requests_total');
  const fail1 = sample(p1, 'edubrain_logins_total', { result: 'failed' });
  const r4xx1 = sample(p1, 'edubrain_http_responses_total', { class: '4xx' });
  for (let i = 0; i < 3; i++) expectStatus(await anon.get('/healthz'), 200);
  expectStatus(await anon.get('/api/v1/no-such-thing'), 404);
  expectStatus(await new Client(srv.base).login('admin', `${ADMIN_PW}-wrong`), 401);

  const p2 = parseProm(expectStatus(await anon.get('/metrics'), 200).text);
  assert.ok(sample(p2, 'edubrain_http_requests_total') >= req1 + 5,
    'edubrain_http_requests_total did not count the requests in between');
  assert.equal(sample(p2, 'edubrain_logins_total', { result: 'failed' }), fail1 + 1,
    'a failed login was not counted');
  assert.ok(sample(p2, 'edubrain_http_responses_total', { class: '4xx' }) >= r4xx1 + 2,
    '4xx answers were not counted');
  for (const s of p2.samples) {
    const before = p1.samples.find((x) => x.name === s.name && JSON.stringify(x.labels) === JSON.stringify(s.labels));
    if (before && p2.families[s.name] === 'counter') {
      assert.ok(s.value >= before.value, `counter ${s.name} went down`);
    }
  }
});

test('openapi.json is OpenAPI 3.x and describes every route of src/api/api_routes.c, and no other', async () => {
  const res = expectStatus(await anon.get('/api/v1/openapi.json'), 200);
  assert.match(res.headers.get('content-type'), /^application\/json/);
  const doc = JSON.parse(res.text);
  assert.match(String(doc.openapi), /^3\.\d+\.\d+$/, 'openapi version');
  assert.equal(typeof doc.info?.title, 'string');
  assert.equal(typeof doc.info?.version, 'string');
  assert.equal(typeof doc.paths, 'object');

  const routes = parseRoutes();
  const missing = [];
  for (const r of routes) {
    const op = doc.paths[r.pattern]?.[r.method.toLowerCase()];
    if (!op) {
      missing.push(`${r.method} ${r.pattern}`);
      continue;
    }
    assert.ok(op.responses && Object.keys(op.responses).length > 0,
      `${r.method} ${r.pattern}: no responses in the document`);
    for (const m of r.pattern.matchAll(/\{(\w+)\}/g)) {
      const params = [...(op.parameters || []), ...(doc.paths[r.pattern].parameters || [])]
        .map((p) => (p.$ref ? resolveRef(doc, p.$ref) : p));
      assert.ok(params.some((p) => p.in === 'path' && p.name === m[1]),
        `${r.method} ${r.pattern}: path parameter ${m[1]} is not described`);
    }
    if (r.flags.includes('EB_ROUTE_JSON')) {
      assert.ok(op.requestBody, `${r.method} ${r.pattern} takes JSON but has no requestBody`);
    }
  }
  assert.deepEqual(missing, [], `routes missing from the document: ${missing.join(', ')}`);

  const known = new Set(routes.map((r) => `${r.method} ${r.pattern}`));
  const extra = [];
  const methods = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options', 'trace'];
  for (const [p, item] of Object.entries(doc.paths)) {
    for (const m of Object.keys(item)) {
      if (methods.includes(m) && !known.has(`${m.toUpperCase()} ${p}`)) extra.push(`${m.toUpperCase()} ${p}`);
    }
  }
  assert.deepEqual(extra, [], `the document describes routes the server does not have: ${extra.join(', ')}`);

  /* Every $ref in the document must resolve. */
  const refs = [];
  (function walk(v) {
    if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') {
      for (const [k, x] of Object.entries(v)) {
        if (k === '$ref' && typeof x === 'string') refs.push(x);
        else walk(x);
      }
    }
  })(doc);
  for (const ref of refs) assert.ok(resolveRef(doc, ref) !== undefined, `unresolved $ref ${ref}`);
});

function resolveRef(doc, ref) {
  assert.match(ref, /^#\//, `only local refs expected: ${ref}`);
  let v = doc;
  for (const part of ref.slice(2).split('/')) {
    v = v?.[part.replaceAll('~1', '/').replaceAll('~0', '~')];
  }
  return v;
}

test('an unknown /api path answers 404 with the JSON error shape, whatever the method', async () => {
  expectError(await anon.get('/api/v1/no-such-thing'), 404, 'not_found');
  expectError(await anon.get('/api/v2/orgs/1'), 404, 'not_found');
  expectError(await anon.request('POST', '/api/v1/no-such-thing', { json: {} }), 404, 'not_found');
  expectError(await anon.get('/api/v1/orgs/1/no-such-child'), 404, 'not_found');
  expectError(await anon.get('/api/v1/orgs/1/children/extra'), 404, 'not_found');
});

test('a known path with a wrong method answers 405 with Allow and the JSON error shape', async () => {
  let res = await anon.request('DELETE', '/api/v1/me');
  expectError(res, 405, 'method_not_allowed');
  assert.deepEqual(allow(res), ['GET']);

  res = await anon.request('PUT', '/api/v1/orgs/1', { json: {} });
  expectError(res, 405, 'method_not_allowed');
  assert.deepEqual(allow(res), ['GET', 'PATCH']);

  res = await anon.request('GET', '/api/v1/session');
  expectError(res, 405, 'method_not_allowed');
  assert.deepEqual(allow(res), ['DELETE', 'POST']);

  res = await anon.request('POST', '/healthz', { json: {} });
  expectError(res, 405, 'method_not_allowed');

  /* Every route's path answers 405 (not 404) to a method the table does not list for it. */
  const routes = parseRoutes();
  for (const r of routes) {
    const listed = routes.filter((x) => x.pattern === r.pattern).map((x) => x.method);
    const other = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'].find((m) => !listed.includes(m));
    const url = r.pattern.replaceAll(/\{\w+\}/g, '1');
    const res2 = await anon.request(other, url, other === 'GET' ? {} : { json: {} });
    expectError(res2, 405, 'method_not_allowed', `${other} ${r.pattern}`);
    assert.deepEqual(allow(res2), [...listed].sort(), `Allow of ${r.pattern}`);
  }
});

function allow(res) {
  return (res.headers.get('allow') || '').split(',').map((s) => s.trim()).filter(Boolean).sort();
}

test('security headers are on every answer; API answers are not cacheable', async () => {
  const cases = [
    ['GET', '/healthz', 200],
    ['GET', '/api/v1/me', 401],
    ['GET', '/api/v1/no-such-thing', 404],
    ['GET', '/api/v1/openapi.json', 200],
    ['DELETE', '/api/v1/me', 405],
  ];
  for (const [method, url, status] of cases) {
    const res = expectStatus(await anon.request(method, url), status);
    const h = res.headers;
    const where = `${method} ${url}`;
    assert.equal(h.get('x-content-type-options'), 'nosniff', `${where}: X-Content-Type-Options`);
    assert.equal(h.get('x-frame-options'), 'DENY', `${where}: X-Frame-Options`);
    assert.ok(h.get('referrer-policy'), `${where}: Referrer-Policy`);
    const csp = h.get('content-security-policy') || '';
    assert.match(csp, /default-src 'self'/, `${where}: CSP default-src`);
    assert.match(csp, /frame-ancestors 'none'/, `${where}: CSP frame-ancestors`);
    assert.match(csp, /object-src 'none'/, `${where}: CSP object-src`);
    assert.doesNotMatch(csp, /script-src[^;]*'unsafe-inline'/, `${where}: CSP allows inline scripts`);
    if (url.startsWith('/api/')) {
      assert.match(h.get('cache-control') || '', /no-store/, `${where}: Cache-Control`);
    }
  }
});

test('a request target that is not valid UTF-8 or holds %00 is refused with 400, and the server stays up', async () => {
  for (const target of ['/api/v1/orgs/%ff', '/api/v1/orgs/1%00', '/api/v1/%c0%af']) {
    const res = await rawRequest(srv.port,
      `GET ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`);
    assert.ok([400, 404].includes(res.status), `${target}: expected 400 or 404, got ${res.status}`);
    const body = JSON.parse(res.body.toString('utf8'));
    assert.equal(typeof body.error?.code, 'string', `${target}: error shape`);
  }
  expectStatus(await anon.get('/healthz'), 200);
});

test('every error answer above used a documented code and the caller\'s language', () => {
  assertErrorsWellFormed();
});
