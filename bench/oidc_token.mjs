// Driver of bench/oidc_token.sh: the refresh_token grant of edubrain and of oidc-provider
// (npm, pinned in bench/package.json), sequential and with 8 concurrent refresh chains, plus
// edubrain's login-to-tokens latency and password logins per second.
//   node bench/oidc_token.mjs provider PORT          runs oidc-provider on 127.0.0.1:PORT
//   node bench/oidc_token.mjs run EDUBRAIN_URL PROVIDER_URL   measures; prints JSON
import fs from 'node:fs';
import http from 'node:http';
import crypto from 'node:crypto';
import { performance } from 'node:perf_hooks';

const CB = 'https://rp.example.test/cb';
const SECRET = 'bench-secret-bench-secret-bench-secret-0123';
const SEQ_N = Number(process.env.SEQ_N || 1000);
const CONC = Number(process.env.CONC || 8);
const CONC_N = Number(process.env.CONC_N || 250); /* requests per concurrent chain */
const RUNS = Number(process.env.RUNS || 3);
const ADMIN_PW = process.env.ADMIN_PW || 'Bench-pass-2026';
const DEMO_PW = process.env.DEMO_PW || 'Bench-pass-2026';

/* ---- oidc-provider ---------------------------------------------------------------------- */

/*
 * An unbounded in-memory adapter: the package's own MemoryAdapter is an LRU of 1000 entries,
 * which would evict grants in the middle of a long refresh chain.
 */
const store = new Map();
class MapAdapter {
  constructor(name) { this.name = name; }
  key(id) { return `${this.name}:${id}`; }
  async upsert(id, payload) {
    store.set(this.key(id), payload);
    if (payload.grantId) {
      const g = `grant:${payload.grantId}`;
      if (!store.has(g)) store.set(g, []);
      store.get(g).push(this.key(id));
    }
  }
  async find(id) { return store.get(this.key(id)); }
  async findByUid() { return undefined; }
  async findByUserCode() { return undefined; }
  async consume(id) { const p = store.get(this.key(id)); if (p) p.consumed = Math.floor(Date.now() / 1000); }
  async destroy(id) { store.delete(this.key(id)); }
  async revokeByGrantId(grantId) {
    for (const k of store.get(`grant:${grantId}`) || []) store.delete(k);
    store.delete(`grant:${grantId}`);
  }
}

async function runProvider(port) {
  const { default: Provider } = await import('oidc-provider');
  /* The same key type and size as edubrain's RS256 key (RSA 2048). */
  const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = { ...privateKey.export({ format: 'jwk' }), kid: 'bench-rs256', use: 'sig', alg: 'RS256' };
  const provider = new Provider(`http://127.0.0.1:${port}`, {
    adapter: MapAdapter,
    clients: [{
      client_id: 'bench', client_secret: SECRET, redirect_uris: [CB], response_types: ['code'],
      grant_types: ['authorization_code', 'refresh_token'],
      token_endpoint_auth_method: 'client_secret_basic', id_token_signed_response_alg: 'RS256',
    }],
    jwks: { keys: [jwk] },
    findAccount: async (ctx, sub) => ({ accountId: sub, claims: async () => ({ sub }) }),
    scopes: ['openid', 'offline_access'],
    rotateRefreshToken: true,
    ttl: { AccessToken: 3600, IdToken: 3600, RefreshToken: 30 * 86400, Grant: 30 * 86400,
      AuthorizationCode: 60, Interaction: 600, Session: 86400 },
  });
  const cb = provider.callback();
  /* /seed makes one grant and its first refresh token, as a finished code flow would. */
  const server = http.createServer(async (req, res) => {
    if (req.url !== '/seed') return cb(req, res);
    const client = await provider.Client.find('bench');
    const grant = new provider.Grant({ accountId: 'u1', clientId: 'bench' });
    grant.addOIDCScope('openid offline_access');
    const grantId = await grant.save();
    const now = Math.floor(Date.now() / 1000);
    const rt = new provider.RefreshToken({ accountId: 'u1', client, grantId, gty: 'authorization_code',
      scope: 'openid offline_access', authTime: now, sessionUid: crypto.randomUUID(), sid: crypto.randomUUID() });
    res.setHeader('Content-Type', 'application/json');
    res.end(JSON.stringify({ refresh_token: await rt.save() }));
  });
  server.listen(port, '127.0.0.1', () => process.stderr.write(`provider listening on ${port}\n`));
}

/* ---- client side --------------------------------------------------------------------------- */

const basic = (id, secret) => `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;

async function refresh(base, auth, rt) {
  const res = await fetch(`${base}/token`, {
    method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded', Authorization: auth },
    body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: rt }).toString(),
  });
  const j = await res.json();
  if (res.status !== 200 || !j.refresh_token || !j.id_token) {
    throw new Error(`refresh at ${base}: ${res.status} ${JSON.stringify(j).slice(0, 300)}`);
  }
  return j.refresh_token;
}

async function chain(base, auth, rt, n) {
  for (let i = 0; i < n; i++) rt = await refresh(base, auth, rt);
  return rt;
}

/** Runs sequential and concurrent refresh chains; seeds() gives a fresh first refresh token. */
async function measure(base, auth, seed, pid) {
  const out = { seq: [], conc: [], server_cpu_ms_per_refresh: [] };
  await chain(base, auth, await seed(), 50); /* warm-up */
  for (let r = 0; r < RUNS; r++) {
    const rt = await seed();
    let t = performance.now();
    const c0 = cpuOf(pid);
    await chain(base, auth, rt, SEQ_N);
    out.seq.push(SEQ_N / ((performance.now() - t) / 1000));
    out.server_cpu_ms_per_refresh.push(((cpuOf(pid) - c0) * 1000) / SEQ_N);
    const rts = [];
    for (let c = 0; c < CONC; c++) rts.push(await seed());
    t = performance.now();
    await Promise.all(rts.map((x) => chain(base, auth, x, CONC_N)));
    out.conc.push((CONC * CONC_N) / ((performance.now() - t) / 1000));
  }
  return out;
}

/* A minimal cookie client for edubrain's portal session. */
async function login(eb, user, pw) {
  const res = await fetch(`${eb}/api/v1/session`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ login: user, password: pw }),
  });
  const j = await res.json();
  if (res.status !== 200) throw new Error(`login ${user}: ${res.status} ${JSON.stringify(j)}`);
  const cookie = res.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
  return { cookie, csrf: j.csrf_token };
}

async function codeFlow(eb, sess, clientId, auth) {
  const verifier = crypto.randomBytes(32).toString('base64url');
  const challenge = crypto.createHash('sha256').update(verifier).digest('base64url');
  const q = new URLSearchParams({ response_type: 'code', client_id: clientId, redirect_uri: CB,
    scope: 'openid', state: 's', nonce: 'n', code_challenge: challenge,
    code_challenge_method: 'S256' });
  const a = await fetch(`${eb}/oidc/authorize?${q}`, { headers: { Cookie: sess.cookie }, redirect: 'manual' });
  await a.arrayBuffer();
  const loc = a.headers.get('location');
  if (a.status !== 302 || !loc) throw new Error(`authorize: ${a.status}`);
  const code = new URL(loc).searchParams.get('code');
  const t = await fetch(`${eb}/oidc/token`, {
    method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded', Authorization: auth },
    body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: CB, code_verifier: verifier }).toString(),
  });
  const j = await t.json();
  if (t.status !== 200 || !j.refresh_token || !j.id_token) throw new Error(`token: ${t.status} ${JSON.stringify(j)}`);
  return j;
}

/* CPU seconds (user + system) a server process has used so far, from /proc; 0 when unknown. */
function cpuOf(pid) {
  if (!pid) return 0;
  const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
}

const median = (xs) => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };

async function runBench(eb, op) {
  /* edubrain: a first-party confidential RS256 app registered through the admin API. */
  const admin = await login(eb, 'admin', ADMIN_PW);
  const clientId = `bench-${Date.now()}`;
  const reg = await fetch(`${eb}/api/v1/apps`, {
    method: 'POST', headers: { 'Content-Type': 'application/json', Cookie: admin.cookie, 'X-CSRF-Token': admin.csrf },
    body: JSON.stringify({ client_id: clientId, name: 'Bench', redirect_uris: [CB], first_party: true,
      org_id: 1, id_token_signed_response_alg: 'RS256' }),
  });
  const app = await reg.json();
  if (reg.status !== 201) throw new Error(`register app: ${reg.status} ${JSON.stringify(app)}`);
  const ebAuth = basic(clientId, app.client_secret);
  const teacher = await login(eb, 'teacher1', DEMO_PW);
  const first = await codeFlow(eb, teacher, clientId, ebAuth);
  const result = { id_token_on_refresh: {} };
  /* Does each issue an ID token on refresh? Checked on one refresh each (both must: refresh() throws otherwise). */
  const r1 = await (await fetch(`${eb}/oidc/token`, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded', Authorization: ebAuth },
    body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: first.refresh_token }).toString() })).json();
  result.id_token_on_refresh.edubrain = { id_token: !!r1.id_token, alg: JSON.parse(Buffer.from(r1.id_token.split('.')[0], 'base64url')).alg, access_token_chars: r1.access_token.length };
  const opAuth = basic('bench', SECRET);
  const opSeed = async () => (await (await fetch(`${op}/seed`)).json()).refresh_token;
  const r2 = await (await fetch(`${op}/token`, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded', Authorization: opAuth },
    body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: await opSeed() }).toString() })).json();
  result.id_token_on_refresh.oidc_provider = { id_token: !!r2.id_token, alg: JSON.parse(Buffer.from(r2.id_token.split('.')[0], 'base64url')).alg, access_token_chars: r2.access_token.length };

  const ebSeed = async () => (await codeFlow(eb, teacher, clientId, ebAuth)).refresh_token;
  result.edubrain = await measure(`${eb}/oidc`, ebAuth, ebSeed, Number(process.env.EB_PID || 0));
  result.oidc_provider = await measure(op, opAuth, opSeed, Number(process.env.OP_PID || 0));

  /* Login to tokens: POST /api/v1/session + authorize + token, 20 times in a row. */
  const lat = [];
  for (let i = 0; i < 20; i++) {
    const t = performance.now();
    const s = await login(eb, 'teacher1', DEMO_PW);
    await codeFlow(eb, s, clientId, ebAuth);
    lat.push(performance.now() - t);
  }
  result.login_to_tokens_ms = { median: median(lat), min: Math.min(...lat), max: Math.max(...lat) };
  /* Password logins with 8 concurrent clients, LOGINS each, repeated RUNS times. */
  const per = Number(process.env.LOGINS || 10);
  result.logins_per_s = [];
  for (let r = 0; r < RUNS; r++) {
    const t = performance.now();
    await Promise.all(Array.from({ length: CONC }, async () => {
      for (let i = 0; i < per; i++) await login(eb, 'teacher1', DEMO_PW);
    }));
    result.logins_per_s.push((CONC * per) / ((performance.now() - t) / 1000));
  }
  for (const k of ['edubrain', 'oidc_provider']) {
    result[k].seq_median = median(result[k].seq);
    result[k].conc_median = median(result[k].conc);
  }
  result.ratio = { seq: result.edubrain.seq_median / result.oidc_provider.seq_median,
    conc: result.edubrain.conc_median / result.oidc_provider.conc_median };
  result.logins_per_s_median = median(result.logins_per_s);
  result.params = { SEQ_N, CONC, CONC_N, RUNS, LOGINS: per };
  console.log(JSON.stringify(result, (k, v) => (typeof v === 'number' ? Math.round(v * 10) / 10 : v), 2));
}

const [mode, a, b] = process.argv.slice(2);
if (mode === 'provider') await runProvider(Number(a));
else if (mode === 'run') await runBench(a, b);
else {
  console.error('usage: oidc_token.mjs provider PORT | run EDUBRAIN_URL PROVIDER_URL');
  process.exit(2);
}
