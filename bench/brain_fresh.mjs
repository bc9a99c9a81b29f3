// Driver of bench/brain_city.sh: freshness under ingest load. A worker thread runs C concurrent
// clients that post batches of B attendance rows to POST /api/v1/observations without pause;
// the main thread holds one Server-Sent Events stream on /api/v1/stream?org=CITY and posts a
// marker observation every 100 ms (lessons.live_held, which no ingest client writes, at one
// school on a day of its own, so that each marker is one distinct change at the city node).
// Freshness is the time from the marker's POST being answered (the rows committed) to the
// `cells` event naming it arriving at the stream's client.
//   node bench/brain_fresh.mjs BASE PASSWORD MARKER_SCHOOL CLASSES_FILE [CLIENTS] [BATCH] [SECONDS] [LABEL]
// The worker keeps the ingest clients off the event loop that timestamps the markers and the
// events, so a client busy sending 1 MB bodies does not delay the clock it is measured by.
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { appendFileSync, readFileSync } from 'node:fs';

const MARKER = 'lessons.live_held';
const INTERVAL_MS = 100;

function ymd(d) {
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`;
}
const daysAgo = (k) => ymd(new Date(Date.now() - k * 86400000));

if (!isMainThread) {
  /* The ingest clients. 16 distinct bodies are built before the clock starts and posted in
   * turn (each post adds new rows: observations are append-only). */
  const { base, cookie, csrf, classes, clients, batch } = workerData;
  let seed = 4242;
  const rnd = (n) => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed % n; };
  /* Twenty recent days: at most 20 days x (city + its districts) changes per event at the
   * city's stream, well under the 1,000 after which an event is truncated. */
  const days = Array.from({ length: 20 }, (_, i) => daysAgo(i + 1));
  const bodies = Array.from({ length: 16 }, () => JSON.stringify({
    observations: Array.from({ length: batch }, () => ({
      element: 'attendance.present', org_id: classes[rnd(classes.length)], day: days[rnd(days.length)], value: 20 + rnd(30),
    })),
  }));
  let stop = false;
  parentPort.on('message', (m) => { if (m === 'stop') stop = true; });
  parentPort.postMessage({ ready: true });
  const lat = [];
  let rows = 0;
  const t0 = performance.now();
  try {
    await Promise.all(Array.from({ length: clients }, async (_, c) => {
      for (let k = c; !stop; k += clients) {
        const t = performance.now();
        const res = await fetch(`${base}/api/v1/observations`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', Cookie: cookie, 'X-CSRF-Token': csrf },
          body: bodies[k % bodies.length],
        });
        const text = await res.text();
        if (res.status !== 201) throw new Error(`ingest POST: ${res.status} ${text.slice(0, 300)}`);
        lat.push(performance.now() - t);
        rows += batch;
      }
    }));
    parentPort.postMessage({ rows, lat, secs: (performance.now() - t0) / 1000 });
  } catch (e) {
    parentPort.postMessage({ error: String(e.stack || e) });
  }
} else {
  const [base, pw, school, classesFile, C = '4', B = '1000', S = '20', label = 'SQLite'] = process.argv.slice(2);
  const clients = Number(C);
  const batch = Number(B);
  const seconds = Number(S);

  const res = await fetch(`${base}/api/v1/session`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ login: 'admin', password: pw }),
  });
  if (res.status !== 200) throw new Error(`login: ${res.status} ${await res.text()}`);
  const cookie = res.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
  const me = await res.json();
  const csrf = me.csrf_token;
  const city = me.roles.find((r) => r.role === 'city_admin').org.id;
  const classes = readFileSync(classesFile, 'utf8').trim().split('\n').map(Number);

  /* The stream: events parsed as they arrive, each marker's change stamped once. */
  const markers = [];
  const byDay = new Map();
  let truncated = 0;
  let cellEvents = 0;
  const ctl = new AbortController();
  const stream = await fetch(`${base}/api/v1/stream?org=${city}`, { headers: { Cookie: cookie }, signal: ctl.signal });
  if (stream.status !== 200) throw new Error(`stream: ${stream.status} ${await stream.text()}`);
  const reading = (async () => {
    const dec = new TextDecoder();
    let buf = '';
    try {
      for await (const chunk of stream.body) {
        const at = performance.now();
        buf += dec.decode(chunk, { stream: true });
        let cut;
        while ((cut = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, cut);
          buf = buf.slice(cut + 2);
          let event = 'message';
          let data = '';
          for (const line of block.split('\n')) {
            if (line.startsWith('event: ')) event = line.slice(7);
            else if (line.startsWith('data: ')) data += line.slice(6);
          }
          if (event !== 'cells') continue;
          cellEvents++;
          const j = JSON.parse(data);
          if (j.truncated) truncated++;
          for (const ch of j.changes) {
            if (ch.element !== MARKER || Number(ch.org) !== city) continue;
            const m = byDay.get(ch.day);
            if (m && m.seen === undefined) m.seen = at;
          }
        }
      }
    } catch (e) {
      if (e.name !== 'AbortError') throw e;
    }
  })();

  const worker = new Worker(new URL(import.meta.url), { workerData: { base, cookie, csrf, classes, clients, batch } });
  const result = new Promise((resolve, reject) => {
    worker.on('message', (m) => { if (!m.ready) resolve(m); });
    worker.on('error', reject);
  });
  await new Promise((resolve) => worker.once('message', resolve));
  /* One second of load before the first marker: the writer and the stream are in their
   * steady state when the measurement starts. */
  await new Promise((r) => setTimeout(r, 1000));

  const posts = [];
  let i = 0;
  const timer = setInterval(() => {
    /* Days 40 to 639 back: away from the ingest's 20 days, and each marker's own. */
    const m = { day: daysAgo(40 + (i++ % 600)), sent: performance.now() };
    markers.push(m);
    byDay.set(m.day, m);
    posts.push(fetch(`${base}/api/v1/observations`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Cookie: cookie, 'X-CSRF-Token': csrf },
      body: JSON.stringify({ observations: [{ element: MARKER, org_id: Number(school), day: m.day, value: 1 }] }),
    }).then(async (r) => {
      const text = await r.text();
      m.acked = performance.now();
      if (r.status !== 201) throw new Error(`marker POST: ${r.status} ${text.slice(0, 300)}`);
    }));
  }, INTERVAL_MS);
  await new Promise((r) => setTimeout(r, seconds * 1000));
  clearInterval(timer);
  await Promise.all(posts);
  /* Late events: up to 3 s for the markers still unseen. */
  for (let w = 0; w < 30 && markers.some((m) => m.seen === undefined); w++) await new Promise((r) => setTimeout(r, 100));
  worker.postMessage('stop');
  const load = await result;
  ctl.abort();
  await reading;
  await worker.terminate();
  if (load.error) throw new Error(load.error);

  const pct = (v, p) => { const s = [...v].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.floor(p * s.length))]; };
  const seen = markers.filter((m) => m.seen !== undefined);
  const lost = markers.length - seen.length;
  /* A lost marker counts as infinitely late: p99 must not hide it. */
  const ack2ev = markers.map((m) => (m.seen === undefined ? Infinity : Math.max(0, m.seen - m.acked)));
  const sent2ev = markers.map((m) => (m.seen === undefined ? Infinity : m.seen - m.sent));
  const early = seen.filter((m) => m.seen < m.acked).length;
  const postLat = markers.map((m) => m.acked - m.sent);
  const f = (x) => (Number.isFinite(x) ? `${x.toFixed(0)} ms` : 'lost');
  console.log(`${label}, freshness: ${markers.length} markers (one per ${INTERVAL_MS} ms for ${seconds} s) while ` +
    `${clients} clients posted ${load.rows} observations in batches of ${batch} (${Math.round(load.rows / load.secs)} observations/s, ` +
    `request p50 ${f(pct(load.lat, 0.5))}, p99 ${f(pct(load.lat, 0.99))})`);
  console.log(`${label}, POST acknowledged -> SSE event at the client: p50 ${f(pct(ack2ev, 0.5))}, p99 ${f(pct(ack2ev, 0.99))}, ` +
    `max ${f(pct(ack2ev, 1))}; POST sent -> event: p50 ${f(pct(sent2ev, 0.5))}, p99 ${f(pct(sent2ev, 0.99))}; ` +
    `marker POST p50 ${f(pct(postLat, 0.5))}, p99 ${f(pct(postLat, 0.99))}; events before the POST's answer ` +
    `(counted as 0 ms): ${early}; lost ${lost}; ${cellEvents} cells events, ${truncated} truncated`);
  if (process.env.BENCH_KV) {
    appendFileSync(process.env.BENCH_KV, [
      `${label}.fresh=${f(pct(ack2ev, 0.5))} / ${f(pct(ack2ev, 0.99))} (${markers.length} markers, lost ${lost})`,
      `${label}.fresh_load=${Math.round(load.rows / load.secs)} observations/s (${clients} clients x ${batch} rows)`,
    ].join('\n') + '\n');
  }
  if (lost > 0) process.exitCode = 1;
}
