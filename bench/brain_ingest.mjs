// Driver of bench/brain_ingest.sh: C concurrent clients post batches of B observations to
// POST /api/v1/observations (each answered after its group commit) and the rate is measured
// from the first request to the last answer. Bodies are built before the clock starts, so the
// client's cost is sending and waiting. Afterwards the cube is read back through /cells: every
// row must be there (the durable count is the figure, not the requests sent).
//   node bench/brain_ingest.mjs BASE PASSWORD [CLIENTS] [BATCH] [BATCHES_PER_CLIENT]
const [base, pw, C = '8', B = '5000', N = '10'] = process.argv.slice(2);
const clients = Number(C);
const batch = Number(B);
const perClient = Number(N);

async function login() {
  const res = await fetch(`${base}/api/v1/session`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ login: 'admin', password: pw }),
  });
  if (res.status !== 200) throw new Error(`login: ${res.status} ${await res.text()}`);
  const cookie = res.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
  const me = await res.json();
  return { cookie, csrf: me.csrf_token, city: me.roles.find((r) => r.role === 'city_admin').org.id };
}

async function get(s, url) {
  const res = await fetch(base + url, { headers: { Cookie: s.cookie } });
  if (res.status !== 200) throw new Error(`GET ${url}: ${res.status}`);
  return res.json();
}

/* Every class of the city, walking the tree breadth first. */
async function classes(s) {
  const out = [];
  let level = [s.city];
  while (level.length) {
    const next = [];
    for (const id of level) {
      let after = 0;
      for (;;) {
        const page = await get(s, `/api/v1/orgs/${id}/children?limit=500${after ? `&after=${after}` : ''}`);
        for (const o of page.items) (o.kind === 'class' ? out : next).push(o.id);
        if (!page.next) break;
        after = page.next;
      }
    }
    level = next;
  }
  return out;
}

function ymd(d) {
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`;
}

const s = await login();
const cls = await classes(s);
const days = Array.from({ length: 60 }, (_, i) => ymd(new Date(Date.now() - (i + 1) * 86400000)));
let seed = 12345;
const rnd = (n) => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed % n; };
const bodies = [];
let want = 0;
for (let k = 0; k < clients * perClient; k++) {
  const rows = [];
  for (let i = 0; i < batch; i++) {
    const v = 20 + rnd(30);
    want += v;
    rows.push({ element: 'attendance.present', org_id: cls[rnd(cls.length)], day: days[rnd(days.length)], value: v });
  }
  bodies.push(JSON.stringify({ observations: rows }));
}
const from = days[days.length - 1];
const to = days[0];
const cellUrl = `/api/v1/cells?element=attendance.present&org=${s.city}&from=${from}&to=${to}`;
const before = await get(s, cellUrl);

const lat = [];
const t0 = performance.now();
await Promise.all(Array.from({ length: clients }, async (_, c) => {
  for (let j = 0; j < perClient; j++) {
    const t = performance.now();
    const res = await fetch(`${base}/api/v1/observations`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Cookie: s.cookie, 'X-CSRF-Token': s.csrf },
      body: bodies[c * perClient + j],
    });
    const text = await res.text();
    if (res.status !== 201) throw new Error(`POST: ${res.status} ${text.slice(0, 300)}`);
    lat.push(performance.now() - t);
  }
}));
const secs = (performance.now() - t0) / 1000;
const after = await get(s, cellUrl);
const rows = clients * perClient * batch;
if (after.count - before.count !== rows || Math.abs(after.sum - before.sum - want) > 1e-6) {
  throw new Error(`the cube holds ${after.count - before.count} new rows (sum ${after.sum - before.sum}), expected ${rows} (${want})`);
}
lat.sort((a, b) => a - b);
const q = (p) => lat[Math.min(lat.length - 1, Math.floor(p * lat.length))].toFixed(0);
console.log(`${rows} observations in ${secs.toFixed(2)} s = ${Math.round(rows / secs)} observations/s ` +
  `(${clients} clients x ${perClient} batches of ${batch}; ${cls.length} classes; request p50 ${q(0.5)} ms, p99 ${q(0.99)} ms; all in the cube)`);
