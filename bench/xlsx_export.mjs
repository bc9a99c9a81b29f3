// Times the Excel export of a school's students against the same list as JSON pages, on a
// running server (bench/xlsx_export.sh starts it). Prints one table row per request.
//   node bench/xlsx_export.mjs BASE_URL SCHOOL_ID ADMIN_PASSWORD [RUNS]
const [base, school, pw, runsArg] = process.argv.slice(2);
const runs = Number(runsArg || 5);

async function login() {
  const res = await fetch(`${base}/api/v1/session`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ login: 'admin', password: pw }),
  });
  if (res.status !== 200) throw new Error(`login: ${res.status} ${await res.text()}`);
  return (res.headers.get('set-cookie') || '').split(';')[0];
}

async function timed(fn) {
  const t0 = process.hrtime.bigint();
  const bytes = await fn();
  return { ms: Number(process.hrtime.bigint() - t0) / 1e6, bytes };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const cookie = await login();
const headers = { Cookie: cookie };
const xlsx = async () => {
  const res = await fetch(`${base}/api/v1/orgs/${school}/people.xlsx?role=student`, { headers });
  if (res.status !== 200) throw new Error(`xlsx ${res.status}`);
  return (await res.arrayBuffer()).byteLength;
};
const json = async () => {
  let after = null;
  let bytes = 0;
  do {
    const res = await fetch(`${base}/api/v1/orgs/${school}/people?role=student&limit=500${after ? `&after=${after}` : ''}`, { headers });
    const text = await res.text();
    bytes += text.length;
    after = JSON.parse(text).next;
  } while (after);
  return bytes;
};
for (const [name, fn] of [['people.xlsx?role=student', xlsx], ['people?role=student&limit=500, every page (reference)', json]]) {
  const t = [];
  let bytes = 0;
  for (let i = 0; i < runs; i++) {
    const r = await timed(fn);
    t.push(r.ms);
    bytes = r.bytes;
  }
  console.log(`| ${name} | ${median(t).toFixed(0)} ms | ${Math.min(...t).toFixed(0)}–${Math.max(...t).toFixed(0)} ms | ${(bytes / 1024).toFixed(0)} KB |`);
}
