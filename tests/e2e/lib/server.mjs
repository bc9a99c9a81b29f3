// Shared helpers of the end-to-end tests: a demo database, a real `edubrain serve` on
// 127.0.0.1, an HTTP client with its own cookie jar and CSRF token, the route table of
// src/api/api_routes.c, raw sockets for requests fetch() cannot send, and test-data helpers.
import assert from 'node:assert/strict';
import { spawn, execFile } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const BIN = process.env.EDUBRAIN_BIN || path.join(REPO, 'build/asan/edubrain');
export const ADMIN_PW = 'Admin-pass-2026';
export const DEMO_PW = 'Demo-pass-2026';
/** Ids that never exist: compared with out-of-scope ids ("learns nothing"). */
export const MISSING_ID = 999999999;

/* The demo generator and the server run under ASan here: give them room. */
const DEMO_TIMEOUT_MS = 180000;
const START_TIMEOUT_MS = 30000;
const STOP_TIMEOUT_MS = 15000;
const SANITIZER_RE = /runtime error|AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer/;

function run(file, args, opts) {
  return new Promise((resolve, reject) => {
    execFile(file, args, { ...opts, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      if (err) {
        err.message += `\n--- stdout ---\n${stdout}\n--- stderr ---\n${stderr}`;
        reject(err);
      } else {
        resolve({ stdout, stderr });
      }
    });
  });
}

/**
 * Generates the small demo city into dir/city.db (its citizen-ID key is dir/city.db.key); demoArgs
 * are more options of `edubrain demo` (e.g. --history term).
 * Fails when the generator printed a sanitizer report, even if it exited 0.
 */
export async function createDemoDb(dir, demoArgs = []) {
  assert.ok(fs.existsSync(BIN), `${BIN} does not exist: build it with make build/asan/edubrain`);
  const db = path.join(dir, 'city.db');
  const { stderr } = await run(BIN, ['demo', '--db', db, '--scale', 'small', '--admin-password',
    ADMIN_PW, '--demo-password', DEMO_PW, ...demoArgs], { cwd: dir, timeout: DEMO_TIMEOUT_MS });
  assert.doesNotMatch(stderr, SANITIZER_RE, `edubrain demo printed a sanitizer report:\n${stderr}`);
  assert.ok(fs.existsSync(db), 'edubrain demo did not create the database');
  assert.ok(fs.existsSync(`${db}.key`), 'edubrain demo did not create the citizen-ID key file');
  return db;
}

/**
 * Makes a temp dir with a fresh demo city and starts `edubrain serve` on it (port 0).
 * Returns { base, port, dir, db, stop, log }. stop() sends SIGTERM and asserts a clean exit
 * (status 0, no ASan/UBSan report on stderr); call it from after().
 * mfaAdmins: the --mfa-admins policy; 'optional' by default, so that the suites log in as
 * administrators with a password alone; null starts the server with its own default (required).
 */
export async function startServer({ extraArgs = [], mfaAdmins = 'optional' } = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'eb-e2e-'));
  try {
    return await startIn(dir, extraArgs, mfaAdmins);
  } catch (e) {
    fs.rmSync(dir, { recursive: true, force: true });
    throw e;
  }
}

async function startIn(dir, extraArgs, mfaAdmins) {
  if (PG_BASE) {
    const { dsn, keyFile, drop } = await createPgDemoDb(dir);
    return serveDb(dsn, { cwd: dir, extraArgs: ['--key-file', keyFile, ...extraArgs], removeDir: dir, cleanup: drop, mfaAdmins });
  }
  const db = await createDemoDb(dir);
  return serveDb(db, { cwd: dir, extraArgs, removeDir: dir, mfaAdmins });
}

/* The --mfa-admins arguments for a policy (null or undefined: none, the server's default). */
function mfaArgs(policy) {
  return policy ? ['--mfa-admins', policy] : [];
}

/* ---- PostgreSQL ------------------------------------------------------------------------ */

/**
 * EDUBRAIN_PG: the DSN of a PostgreSQL server (tools/pg_test_server.sh start prints one). When
 * set, startServer() gives each test file its own fresh database on that server instead of a
 * SQLite file; tests that work on database files (cli.test.mjs) keep using SQLite.
 */
export const PG_BASE = process.env.EDUBRAIN_PG || '';
const PSQL = process.env.EDUBRAIN_PSQL || (fs.existsSync('/usr/lib/postgresql/15/bin/psql')
  ? '/usr/lib/postgresql/15/bin/psql' : 'psql');

/** The DSN of database name on the EDUBRAIN_PG server. */
export function pgDsn(name) {
  const u = new URL(PG_BASE);
  u.pathname = `/${name}`;
  return u.toString();
}

/** Runs one SQL command on the EDUBRAIN_PG server's maintenance database. */
export function pgAdmin(sql) {
  return run(PSQL, ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', PG_BASE, '-c', sql], { timeout: 60000 });
}

/**
 * Creates a fresh database on the EDUBRAIN_PG server and generates the small demo city in it;
 * the citizen-ID key goes to dir/city.key. Returns { dsn, keyFile, drop } where drop() removes
 * the database (call it after the last server on it stopped).
 */
export async function createPgDemoDb(dir, demoArgs = []) {
  assert.ok(fs.existsSync(BIN), `${BIN} does not exist: build it with make build/asan/edubrain`);
  const name = `eb_e2e_${process.pid}_${Date.now().toString(36)}_${Math.floor(Math.random() * 1e6)}`;
  await pgAdmin(`CREATE DATABASE ${name}`);
  const drop = () => pgAdmin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  try {
    const dsn = pgDsn(name);
    const keyFile = path.join(dir, 'city.key');
    const { stderr } = await run(BIN, ['demo', '--db', dsn, '--key-file', keyFile, '--scale', 'small',
      '--admin-password', ADMIN_PW, '--demo-password', DEMO_PW, ...demoArgs], { cwd: dir, timeout: DEMO_TIMEOUT_MS });
    assert.doesNotMatch(stderr, SANITIZER_RE, `edubrain demo printed a sanitizer report:\n${stderr}`);
    assert.ok(fs.existsSync(keyFile), 'edubrain demo did not create the citizen-ID key file');
    return { dsn, keyFile, drop };
  } catch (e) {
    await drop().catch(() => {});
    throw e;
  }
}

/**
 * Starts `edubrain serve --db db --listen 127.0.0.1:0 ...extraArgs` in cwd (default: the db's
 * directory) on an existing database. Returns { base, port, dir, db, pid, stop, log } like
 * startServer; stop() asserts a clean exit and removes removeDir when one is given.
 * mfaAdmins as for startServer.
 */
export async function serveDb(db, {
  cwd = path.dirname(db), extraArgs = [], removeDir = null, cleanup = null, mfaAdmins = 'optional',
} = {}) {
  const dir = cwd;
  let log = '';
  /* An explicit --mfa-admins in extraArgs wins over the option. */
  const policy = extraArgs.includes('--mfa-admins') ? [] : mfaArgs(mfaAdmins);
  /* cwd is the temp dir so that the server does not pick up a web/dist of the work tree. */
  const child = spawn(BIN, ['serve', '--db', db, '--listen', '127.0.0.1:0', ...policy, ...extraArgs],
    { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.on('data', (c) => { log += c.toString(); });
  /* A test process that dies without its after() hook must not leave a server behind. */
  const reap = () => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL'); };
  process.once('exit', reap);
  const exited = new Promise((resolve) => {
    child.on('exit', (code, signal) => resolve({ code, signal }));
  });
  const { port, scheme } = await waitForPort(child, exited, () => log, (s) => { log += s; }).catch(async (e) => {
    reap();
    process.removeListener('exit', reap);
    if (cleanup) await cleanup().catch(() => {});
    throw e;
  });
  let stopped = false;
  async function stop() {
    if (stopped) return;
    stopped = true;
    process.removeListener('exit', reap);
    try {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      let timer;
      const timeout = new Promise((r) => { timer = setTimeout(() => r(null), STOP_TIMEOUT_MS); });
      const res = await Promise.race([exited, timeout]);
      clearTimeout(timer);
      if (res === null) {
        child.kill('SIGKILL');
        assert.fail(`edubrain serve did not stop within ${STOP_TIMEOUT_MS} ms of SIGTERM`);
      }
      assert.doesNotMatch(log, SANITIZER_RE, `the server printed a sanitizer report:\n${tail(log)}`);
      assert.equal(res.signal, null, `the server died of ${res.signal}:\n${tail(log)}`);
      assert.equal(res.code, 0, `the server exited with ${res.code}:\n${tail(log)}`);
    } finally {
      if (removeDir) fs.rmSync(removeDir, { recursive: true, force: true });
      if (cleanup) await cleanup();
    }
  }
  return { base: `${scheme}://127.0.0.1:${port}`, port, dir, db, pid: child.pid, stop, log: () => log };
}

function waitForPort(child, exited, getLog, addLog) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`edubrain serve did not start in time:\n${getLog()}`)),
      START_TIMEOUT_MS);
    let found = false;
    child.stderr.on('data', (c) => {
      addLog(c.toString());
      /* https with --tls-cert and --tls-key. */
      const m = /edubrain: listening on (https?):\/\/127\.0\.0\.1:(\d+)/.exec(getLog());
      if (m && !found) {
        found = true;
        clearTimeout(timer);
        resolve({ scheme: m[1], port: Number(m[2]) });
      }
    });
    exited.then(({ code, signal }) => {
      clearTimeout(timer);
      if (!found) reject(new Error(`edubrain serve exited (${code ?? signal}) before listening:\n${getLog()}`));
    });
  });
}

function tail(s, n = 6000) {
  return s.length > n ? `...${s.slice(-n)}` : s;
}

/** One browser-like client: a cookie jar, the CSRF token of its session, a language. */
export class Client {
  /* fetchFn: another fetch, e.g. lib/oidc.mjs trustingFetch for a server with a test
   * certificate. */
  constructor(base, { lang, fetchFn } = {}) {
    this.base = base;
    this.fetchFn = fetchFn || fetch;
    this.cookies = new Map();
    this.csrf = null;
    this.lang = lang;
    this.session = null;
  }

  cookieHeader() {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  /** Stores the Set-Cookie answers; a cookie with Max-Age=0 or an empty value is dropped. */
  absorb(headers) {
    for (const sc of headers.getSetCookie()) {
      const [pair, ...attrs] = sc.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const expired = attrs.some((a) => /^\s*max-age\s*=\s*0\s*$/i.test(a));
      if (expired || value === '') this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }

  /**
   * Sends a request. opts: json (serialised, Content-Type application/json), body (raw string
   * or bytes), headers, csrf (false = never send it, a string = send that one; default: the
   * session's token on unsafe methods).
   */
  async request(method, url, opts = {}) {
    const headers = { ...(opts.headers || {}) };
    const jar = this.cookieHeader();
    if (jar && !('cookie' in lower(headers))) headers.Cookie = jar;
    if (this.lang && !('accept-language' in lower(headers))) headers['Accept-Language'] = this.lang;
    const unsafe = !['GET', 'HEAD', 'OPTIONS'].includes(method);
    if (typeof opts.csrf === 'string') headers['X-CSRF-Token'] = opts.csrf;
    else if (unsafe && opts.csrf !== false && this.csrf) headers['X-CSRF-Token'] = this.csrf;
    let body = opts.body;
    if (opts.json !== undefined) {
      body = JSON.stringify(opts.json);
      if (!('content-type' in lower(headers))) headers['Content-Type'] = 'application/json';
    }
    const res = await this.fetchFn(this.base + url, { method, headers, body, redirect: 'manual' });
    this.absorb(res.headers);
    const text = await res.text();
    let json;
    if ((res.headers.get('content-type') || '').includes('application/json') && text !== '') {
      json = JSON.parse(text);
    }
    /* The language the server should answer in: the eb_lang cookie, else Accept-Language. */
    const h = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), String(v)]));
    const langCookie = /(?:^|;\s*)eb_lang=(en|zh)/.exec(h.cookie || '');
    const lang = langCookie ? langCookie[1] : /^\s*en\b/i.test(h['accept-language'] || '') ? 'en' : 'zh';
    return { status: res.status, headers: res.headers, text, json, method, url, lang };
  }

  get(url, opts) { return this.request('GET', url, opts); }
  post(url, json, opts = {}) { return this.request('POST', url, { ...opts, json }); }
  put(url, json, opts = {}) { return this.request('PUT', url, { ...opts, json }); }
  patch(url, json, opts = {}) { return this.request('PATCH', url, { ...opts, json }); }
  del(url, opts) { return this.request('DELETE', url, opts); }

  /** Logs in; returns the response. On 200 the CSRF token and session are kept. */
  async login(login, password) {
    const res = await this.post('/api/v1/session', { login, password }, { csrf: false });
    if (res.status === 200) {
      this.csrf = res.json.csrf_token;
      this.session = res.json;
    }
    return res;
  }

  /** Logs in and asserts success. */
  async mustLogin(login, password) {
    const res = await this.login(login, password);
    assert.equal(res.status, 200, `login ${login}: ${res.status} ${res.text}`);
    return res.json;
  }
}

function lower(h) {
  return Object.fromEntries(Object.keys(h).map((k) => [k.toLowerCase(), true]));
}

/** A logged-in client for a demo account (admin gets the admin password). */
export async function loginAs(base, login, password) {
  const c = new Client(base);
  await c.mustLogin(login, password ?? (login === 'admin' ? ADMIN_PW : DEMO_PW));
  return c;
}

/** Asserts a response status, showing the request and body on failure. */
export function expectStatus(res, status, what = '') {
  const ok = Array.isArray(status) ? status.includes(res.status) : res.status === status;
  assert.ok(ok, `${what ? `${what}: ` : ''}${res.method} ${res.url}: expected ${
    JSON.stringify(status)}, got ${res.status} ${res.text.slice(0, 400)}`);
  return res;
}

/** Asserts the API's error shape {"error":{"code","message"}} and, if given, the code. */
export function expectError(res, status, code, what = '') {
  expectStatus(res, status, what);
  const where = `${what ? `${what}: ` : ''}${res.method} ${res.url}`;
  assert.match(res.headers.get('content-type') || '', /^application\/json/, `${where}: content type`);
  assert.ok(res.json && typeof res.json.error === 'object', `${where}: no error object: ${res.text}`);
  assert.deepEqual(Object.keys(res.json).sort(), ['error'], `${where}: extra top-level keys`);
  assert.equal(typeof res.json.error.code, 'string', `${where}: error.code`);
  assert.equal(typeof res.json.error.message, 'string', `${where}: error.message`);
  assert.ok(res.json.error.message.length > 0, `${where}: empty message`);
  seenErrors.push({ where: `${res.method} ${res.url.split('?')[0]}`, status: res.status, code: res.json.error.code,
    message: res.json.error.message, lang: res.lang });
  if (code !== undefined) {
    const codes = Array.isArray(code) ? code : [code];
    assert.ok(codes.includes(res.json.error.code),
      `${where}: expected error code ${codes.join('|')}, got ${res.json.error.code} (${res.json.error.message})`);
  }
  return res.json.error;
}

/** Every error answer checked by expectError in this process (one test file). */
export const seenErrors = [];

/** The error codes listed under "Conventions" in docs/API.md. */
export function documentedErrorCodes() {
  const doc = fs.readFileSync(path.join(REPO, 'docs/API.md'), 'utf8');
  const m = /Codes:([^.]*)\./s.exec(doc);
  assert.ok(m, 'docs/API.md has no "Codes:" list');
  const codes = [...m[1].matchAll(/`([a-z_]+)`/g)].map((x) => x[1]);
  assert.ok(codes.length >= 5, 'too few documented codes');
  return new Set(codes);
}

/**
 * Asserts that every error answer seen so far used a documented code and, when the request
 * asked for Chinese (the default), a Chinese message; English requests got no Chinese text.
 */
export function assertErrorsWellFormed() {
  const codes = documentedErrorCodes();
  const bad = [];
  for (const e of seenErrors) {
    if (!codes.has(e.code)) bad.push(`${e.where}: ${e.status} code '${e.code}' is not in docs/API.md`);
    const cjk = /[\u4e00-\u9fff]/.test(e.message);
    if (e.lang === 'zh' && !cjk) bad.push(`${e.where}: ${e.status} ${e.code}: message not in Chinese: '${e.message}'`);
    if (e.lang === 'en' && cjk) bad.push(`${e.where}: ${e.status} ${e.code}: Chinese in an English answer: '${e.message}'`);
  }
  const unique = [...new Set(bad)];
  assert.deepEqual(unique, [], `error answers off the contract:\n${unique.join('\n')}`);
}

/* ---- the route table ------------------------------------------------------------------- */

/**
 * Parses src/api/api_routes.c: [{method, pattern, handler, flags: [...], bodyMax}] where
 * bodyMax is the route's body limit in bytes (64 KiB when the table says 0).
 */
export function parseRoutes() {
  const src = fs.readFileSync(path.join(REPO, 'src/api/api_routes.c'), 'utf8');
  const re = /\{\s*"(GET|POST|PUT|PATCH|DELETE|HEAD)"\s*,\s*"([^"]+)"\s*,\s*(\w+)\s*,\s*([^,]+?)\s*,\s*([^,]+?)\s*,/g;
  const routes = [];
  for (const m of src.matchAll(re)) {
    const flags = m[4].trim() === '0' ? [] : m[4].split('|').map((s) => s.trim());
    const size = m[5].trim();
    let bodyMax = 64 * 1024;
    const km = /^(\d+)\s*\*\s*KB$/.exec(size);
    if (km) bodyMax = Number(km[1]) * 1024;
    else if (/^\d+$/.test(size) && Number(size) > 0) bodyMax = Number(size);
    routes.push({ method: m[1], pattern: m[2], handler: m[3], flags, bodyMax });
  }
  assert.ok(routes.length >= 10, `parsed only ${routes.length} routes from api_routes.c`);
  return routes;
}

/* ---- raw HTTP over a socket ------------------------------------------------------------ */

/**
 * Sends raw bytes (a whole HTTP/1.1 request) and reads one answer. Resolves
 * {status, headers (lower-case names), body (Buffer), error} once the declared body arrived or
 * the server closed; an ECONNRESET after the answer is kept as res.error.
 */
export function rawRequest(port, data, { timeoutMs = 10000 } = {}) {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1');
    let buf = Buffer.alloc(0);
    let done = false;
    const finish = (error) => {
      if (done) return;
      const parsed = parseAnswer(buf);
      if (!parsed) {
        done = true;
        sock.destroy();
        reject(error || new Error(`no HTTP answer (got ${buf.length} bytes)`));
        return;
      }
      if (!error && parsed.complete === false) return;
      done = true;
      sock.destroy();
      resolve({ ...parsed, error });
    };
    const timer = setTimeout(() => finish(new Error('timeout')), timeoutMs);
    sock.on('data', (c) => {
      buf = Buffer.concat([buf, c]);
      const parsed = parseAnswer(buf);
      if (parsed && parsed.complete) {
        clearTimeout(timer);
        finish();
      }
    });
    sock.on('error', (e) => { clearTimeout(timer); finish(e); });
    sock.on('end', () => { clearTimeout(timer); finish(); });
    sock.on('close', () => { clearTimeout(timer); finish(); });
    sock.write(data, () => {});
  });
}

function parseAnswer(buf) {
  const end = buf.indexOf('\r\n\r\n');
  if (end < 0) return null;
  const head = buf.subarray(0, end).toString('latin1').split('\r\n');
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(head[0]);
  if (!m) return null;
  const headers = {};
  for (const line of head.slice(1)) {
    const i = line.indexOf(':');
    if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
  }
  const body = buf.subarray(end + 4);
  const len = headers['content-length'] !== undefined ? Number(headers['content-length']) : null;
  const complete = len === null ? undefined : body.length >= len;
  return { status: Number(m[1]), headers, body: len === null ? body : body.subarray(0, len), complete };
}

/* ---- test data ------------------------------------------------------------------------- */

/** The GB 11643 check character (ISO 7064 MOD 11-2) of the first 17 digits. */
export function citizenIdCheckChar(first17) {
  assert.match(first17, /^\d{17}$/);
  const weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += Number(first17[i]) * weights[i];
  return '10X98765432'[sum % 11];
}

/** A valid citizen ID: region (6 digits), birth "YYYY-MM-DD", 3-digit sequence (odd = male). */
export function makeCitizenId(region, birth, seq) {
  const first17 = `${region}${birth.replaceAll('-', '')}${seq}`;
  return first17 + citizenIdCheckChar(first17);
}

/** A citizen ID with a wrong check character. */
export function breakCheckChar(id) {
  const right = id[17];
  const wrong = right === '0' ? '1' : '0';
  return id.slice(0, 17) + wrong;
}

/** The masked form the API must show: 6 digits, 8 '*', 3 digits and the check character. */
export const MASKED_ID_RE = /^\d{6}\*{8}\d{3}[\dX]$/;

/** Reads every page of a list endpoint (following next); returns all items. */
export async function listAll(client, url, limit) {
  const items = [];
  let after = null;
  for (let pages = 0; pages < 1000; pages++) {
    const sep = url.includes('?') ? '&' : '?';
    let u = url;
    const args = [];
    if (limit) args.push(`limit=${limit}`);
    if (after !== null) args.push(`after=${encodeURIComponent(after)}`);
    if (args.length) u += sep + args.join('&');
    const res = expectStatus(await client.get(u), 200, 'list page');
    assert.ok(Array.isArray(res.json.items), `${u}: items is not an array`);
    items.push(...res.json.items);
    if (res.json.next === null) return items;
    assert.ok(res.json.items.length > 0, `${u}: an empty page with a next cursor`);
    after = res.json.next;
  }
  assert.fail(`${url}: more than 1000 pages`);
}

/** A short unique suffix for names and logins created by a test run. */
export function uniq() {
  return `${process.pid.toString(36)}${Date.now().toString(36).slice(-4)}`;
}
