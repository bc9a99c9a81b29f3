// Driver of bench/brain_city.sh: the queries of bench/brain_sql's file over HTTP, one client on
// one keep-alive connection (latency, not throughput), timed from the request's first byte to
// the answer's last. Each answer is checked against the SQL result of the same query (the file
// `brain_sql run` wrote), and the two latency distributions are printed side by side.
//   node bench/brain_query.mjs BASE PASSWORD QUERIES SQL_RESULTS cells|INDICATOR_CODE [LABEL]
// cells: GET /api/v1/cells?element=&org=&from=&to= for the query's one element.
// INDICATOR_CODE (a ratio indicator whose numerator is the first term of the query's elements
// and whose denominator is the sum of all of them, e.g. attendance.rate with
// attendance.present+attendance.absent): GET /api/v1/indicators/CODE?org=&period=range:FROM..TO.
import http from 'node:http';
import { appendFileSync, readFileSync } from 'node:fs';

const [base, pw, queriesFile, sqlFile, mode, label = 'SQLite'] = process.argv.slice(2);
const WARMUP = Number(process.env.WARMUP || 200);
const url = new URL(base);
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

function request(method, path, headers = {}, body = null) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: url.hostname, port: url.port, method, path, agent, headers }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString() }));
      res.on('error', reject);
    });
    req.on('error', reject);
    if (body) req.end(body); else req.end();
  });
}

const login = await request('POST', '/api/v1/session', { 'Content-Type': 'application/json' },
  JSON.stringify({ login: 'admin', password: pw }));
if (login.status !== 200) throw new Error(`login: ${login.status} ${login.body}`);
const cookie = login.headers['set-cookie'].map((c) => c.split(';')[0]).join('; ');

const queries = readFileSync(queriesFile, 'utf8').trim().split('\n').map((l) => {
  const [org, kind, path, from, to, codes] = l.split('\t');
  return { org, kind: Number(kind), path, from, to, codes: codes.split('+') };
});
/* The SQL side may have stopped early (its time budget): compare the queries it answered. */
const sql = readFileSync(sqlFile, 'utf8').trim().split('\n').filter(Boolean).map((l) => {
  const f = l.split('\t').map(Number);
  const terms = [];
  for (let i = 2; i + 1 < f.length; i += 2) terms.push({ sum: f[i], count: f[i + 1] });
  return { us: f[1], terms };
});

function pathFor(q) {
  if (mode === 'cells') {
    return `/api/v1/cells?element=${encodeURIComponent(q.codes[0])}&org=${q.org}&from=${q.from}&to=${q.to}`;
  }
  return `/api/v1/indicators/${encodeURIComponent(mode)}?org=${q.org}&period=range:${q.from}..${q.to}`;
}

async function ask(q) {
  const t = process.hrtime.bigint();
  const res = await request('GET', pathFor(q), { Cookie: cookie });
  const us = Number(process.hrtime.bigint() - t) / 1000;
  if (res.status !== 200) throw new Error(`GET ${pathFor(q)}: ${res.status} ${res.body.slice(0, 300)}`);
  const j = JSON.parse(res.body);
  if (j.warming) throw new Error('the cube is still warming: wait for "the cube is ready" in the log');
  return { us, j };
}

const close = (a, b) => Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b));

/* Does the answer equal the SQL aggregation? cells: sum and count; an indicator: numerator =
 * the first term's sum, denominator = every term's measure (sum, or count for a count element,
 * as in config/indicators.json's attendance.rate: present sum + absent count). */
function same(q, j, s) {
  if (mode === 'cells') return close(j.sum, s.terms[0].sum) && j.count === s.terms[0].count;
  const num = s.terms[0].sum;
  const den = s.terms[0].sum + s.terms.slice(1).reduce((a, t) => a + t.count, 0);
  return close(j.numerator ?? 0, num) && close(j.denominator ?? 0, den);
}

for (let i = 0; i < Math.min(WARMUP, queries.length); i++) await ask(queries[i]);
const http_us = [];
let equal = 0;
const wrong = [];
for (let i = 0; i < queries.length; i++) {
  const { us, j } = await ask(queries[i]);
  http_us.push(us);
  if (i < sql.length) {
    if (same(queries[i], j, sql[i])) equal++;
    else if (wrong.length < 3) wrong.push({ query: queries[i], http: j, sql: sql[i] });
  }
}
agent.destroy();

const pct = (v, p) => { const s = [...v].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.floor(p * s.length))]; };
const ms = (us) => (us / 1000).toFixed(us < 1000 ? 3 : 1);
const n = sql.length;
const h = http_us.slice(0, n);
const s = sql.map((r) => r.us);
const mean = (v) => v.reduce((a, b) => a + b, 0) / v.length;
const x = (r) => `${r.toFixed(r < 10 ? 2 : 0)}x`;
const what = mode === 'cells' ? 'GET /api/v1/cells' : `GET /api/v1/indicators/${mode}`;
console.log(`${label}, ${what}: ${queries.length} random (org x period) queries, p50 ${ms(pct(http_us, 0.5))} ms, ` +
  `p99 ${ms(pct(http_us, 0.99))} ms, mean ${ms(mean(http_us))} ms (one client, keep-alive)`);
if (n > 0) {
  console.log(`${label}, the same aggregation as SQL (first ${n} queries, prepared statements): p50 ${ms(pct(s, 0.5))} ms, ` +
    `p99 ${ms(pct(s, 0.99))} ms, mean ${ms(mean(s))} ms; HTTP on those: p50 ${ms(pct(h, 0.5))} ms, p99 ${ms(pct(h, 0.99))} ms`);
  console.log(`${label}, ratio SQL / ${what} over HTTP: p50 ${x(pct(s, 0.5) / pct(h, 0.5))}, ` +
    `p99 ${x(pct(s, 0.99) / pct(h, 0.99))}, total time ${x(mean(s) / mean(h))}; ` +
    `answers equal to SQL: ${equal}/${n}`);
}
/* Figures for brain_city.sh's summary table, as key=value lines. */
if (process.env.BENCH_KV && n > 0) {
  const k = `${label}.${mode === 'cells' ? 'cells' : 'indicator'}`;
  appendFileSync(process.env.BENCH_KV, [
    `${k}.http=${ms(pct(http_us, 0.5))} / ${ms(pct(http_us, 0.99))} ms`,
    `${k}.sql=${ms(pct(s, 0.5))} / ${ms(pct(s, 0.99))} ms (${n} queries)`,
    `${k}.ratio=${x(pct(s, 0.5) / pct(h, 0.5))} / ${x(pct(s, 0.99) / pct(h, 0.99))} (answers equal: ${equal}/${n})`,
    `${k}.sql_p50_us=${pct(s, 0.5)}`,
    `${k}.sql_p99_us=${pct(s, 0.99)}`,
  ].join('\n') + '\n');
}
if (equal !== n) {
  console.error(JSON.stringify(wrong, null, 1));
  process.exit(1);
}
