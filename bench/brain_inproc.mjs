// Driver of bench/brain_city.sh: the in-process side of the SQL comparison. Reads the answers
// `brain_sql cube` gave from a cube rebuilt out of the same database, checks every term's sum
// and count against `brain_sql run`'s SQL answers to the same query lines, and prints both
// latency distributions with their ratios: of the percentiles, and query by query.
//   node bench/brain_inproc.mjs SQL_RESULTS CUBE_RESULTS KIND [LABEL]
// A result line is: index  micros  sum  count  [sum  count ...]   (one pair per term)
import { appendFileSync, readFileSync } from 'node:fs';

const [sqlFile, cubeFile, kind, label = 'SQLite'] = process.argv.slice(2);
const read = (f) => readFileSync(f, 'utf8').trim().split('\n').filter(Boolean).map((l) => {
  const v = l.split('\t').map(Number);
  const terms = [];
  for (let i = 2; i + 1 < v.length; i += 2) terms.push({ sum: v[i], count: v[i + 1] });
  return { us: v[1], terms };
});
const sql = read(sqlFile);
const cube = read(cubeFile);
if (cube.length < sql.length) throw new Error(`${cubeFile}: ${cube.length} answers for ${sql.length} SQL ones`);

const close = (a, b) => Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b));
let equal = 0;
const wrong = [];
for (let i = 0; i < sql.length; i++) {
  const s = sql[i].terms;
  const c = cube[i].terms;
  if (s.length === c.length && s.every((t, j) => close(t.sum, c[j].sum) && t.count === c[j].count)) equal++;
  else if (wrong.length < 3) wrong.push({ line: i, sql: s, cube: c });
}

const pct = (v, p) => { const s = [...v].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.floor(p * s.length))]; };
const x = (r) => `${r >= 100 ? Math.round(r).toLocaleString('en') : r.toFixed(1)}×`;
const all = cube.map((r) => r.us);
const n = sql.length;
const s = sql.map((r) => r.us);
const c = cube.slice(0, n).map((r) => r.us);
const per = s.map((us, i) => us / Math.max(c[i], 0.001));
console.log(`${label}, ${kind} in-process (brain_sql cube, the server's rebuild code): ${all.length} queries, ` +
  `p50 ${pct(all, 0.5).toFixed(3)} µs, p99 ${pct(all, 0.99).toFixed(3)} µs`);
if (n > 0) {
  console.log(`${label}, ${kind}: on the ${n} queries also run as SQL: cube p50 ${pct(c, 0.5).toFixed(3)} / p99 ` +
    `${pct(c, 0.99).toFixed(3)} µs, SQL p50 ${(pct(s, 0.5) / 1000).toFixed(3)} / p99 ${(pct(s, 0.99) / 1000).toFixed(1)} ms; ` +
    `ratio SQL / cube p50 ${x(pct(s, 0.5) / pct(c, 0.5))}, p99 ${x(pct(s, 0.99) / pct(c, 0.99))}; ` +
    `query by query: median ${x(pct(per, 0.5))}, smallest ${x(pct(per, 0))}, ` +
    `${per.filter((r) => r >= 1000).length}/${n} at least 1000×; answers equal ${equal}/${n}`);
}
if (process.env.BENCH_KV && n > 0) {
  const k = `${label}.${kind}`;
  appendFileSync(process.env.BENCH_KV, [
    `${k}.cube=${pct(all, 0.5).toFixed(2)} / ${pct(all, 0.99).toFixed(2)} µs (${all.length} queries)`,
    `${k}.cube_ratio=${x(pct(s, 0.5) / pct(c, 0.5))} / ${x(pct(s, 0.99) / pct(c, 0.99))}; per query median ` +
      `${x(pct(per, 0.5))}, ${per.filter((r) => r >= 1000).length}/${n} ≥ 1000× (answers equal: ${equal}/${n})`,
  ].join('\n') + '\n');
}
if (equal !== n) {
  console.error(JSON.stringify(wrong, null, 1));
  process.exit(1);
}
