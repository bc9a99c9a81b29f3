// The education map's geography (GET /api/v1/geo/districts, `edubrain import geojson`): the
// boundaries generated for the demo city partition it (every school lies in exactly one
// district's polygon, its own district's, and its district's centre in it), each caller sees the districts of
// their scope only, and a city's GeoJSON file is imported by adcode or name, skipping other
// places, or refused as a whole (nothing written) when a geometry is invalid or ambiguous.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {
  PG_BASE, startServer, loginAs, expectStatus, expectError, listAll, Client, assertErrorsWellFormed,
} from './lib/server.mjs';
import { discoverCity } from './lib/city.mjs';
import { runCli, expectExit } from './lib/cli.mjs';

let srv;
let clients;
let ids;

before(async () => {
  srv = await startServer();
  ({ clients, ids } = await discoverCity(srv.base));
});

after(async () => {
  if (srv) await srv.stop();
});

/* Ray casting over every ring of a Polygon or MultiPolygon (holes flip the answer back). */
function inside(geometry, [x, y]) {
  const polys = geometry.type === 'Polygon' ? [geometry.coordinates] : geometry.coordinates;
  let hit = false;
  for (const rings of polys) {
    for (const ring of rings) {
      for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
        const [xi, yi] = ring[i];
        const [xj, yj] = ring[j];
        if ((yi > y) !== (yj > y) && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) hit = !hit;
      }
    }
  }
  return hit;
}

function cli(args) {
  const key = PG_BASE ? ['--key-file', path.join(srv.dir, 'city.key')] : [];
  return runCli(['import', 'geojson', ...args, '--db', srv.db, ...key]);
}

async function districts(client) {
  const res = expectStatus(await client.get('/api/v1/geo/districts'), 200);
  assert.match(res.headers.get('content-type'), /^application\/json/);
  assert.equal(res.json.type, 'FeatureCollection');
  return res.json.features;
}

async function schoolsOf(admin, districtId) {
  return (await listAll(admin, `/api/v1/orgs/${districtId}/children`, 500)).filter((o) => o.kind === 'school');
}

test('the demo city gets generated district boundaries that partition it', async () => {
  const admin = clients.admin;
  const features = await districts(admin);
  const want = (await listAll(admin, `/api/v1/orgs/${ids.city}/children`, 500)).filter((o) => o.kind === 'district');
  assert.deepEqual(features.map((f) => f.properties.org_id).sort((a, b) => a - b), want.map((d) => d.id).sort((a, b) => a - b));
  for (const f of features) {
    const d = want.find((x) => x.id === f.properties.org_id);
    assert.equal(f.type, 'Feature');
    assert.equal(f.id, d.id);
    assert.equal(f.properties.name, d.name);
    assert.equal(f.properties.division_code, d.division_code);
    assert.equal(f.properties.source, 'generated');
    assert.equal(f.geometry.type, 'Polygon');
    const ring = f.geometry.coordinates[0];
    assert.ok(ring.length >= 4, 'a ring of at least 4 positions');
    assert.deepEqual(ring[0], ring[ring.length - 1], 'a closed ring');
    assert.ok(inside(f.geometry, f.properties.center), `${d.name}: its centre lies in its polygon`);
    const schools = await schoolsOf(admin, d.id);
    assert.equal(f.properties.n_schools, schools.filter((s) => s.lat !== undefined).length);
  }
  /* Every school with coordinates lies in exactly one polygon: the cells neither overlap nor
   * leave a school outside the city. */
  let n = 0;
  for (const d of want) {
    for (const s of await schoolsOf(admin, d.id)) {
      if (s.lat === undefined) continue;
      const holders = features.filter((f) => inside(f.geometry, [s.lon, s.lat]));
      assert.equal(holders.length, 1, `${s.name} (${s.lon}, ${s.lat}) lies in ${holders.length} polygons`);
      assert.equal(holders[0].properties.org_id, d.id, `${s.name} lies in another district's polygon`);
      n++;
    }
  }
  assert.ok(n >= 8, `only ${n} schools checked`);
  /* Generated once: a second request answers the same shapes. */
  assert.deepEqual(await districts(admin), features);
});

test('each caller sees the districts of their scope only', async () => {
  const all = await districts(clients.admin);
  const mine = await districts(clients.district1);
  assert.deepEqual(mine.map((f) => f.properties.org_id), [ids.districtA]);
  assert.deepEqual(mine[0], all.find((f) => f.properties.org_id === ids.districtA));
  const analyst = await districts(clients.analyst1);
  assert.equal(analyst.length, clients.analyst1.session.roles.some((r) => r.org.id === ids.city) ? all.length : analyst.length);
  for (const who of ['school1', 'teacher1', 'student1', 'parent1']) {
    assert.deepEqual(await districts(clients[who]), [], `${who} sees no district`);
  }
  expectError(await new Client(srv.base).get('/api/v1/geo/districts'), 401, 'unauthenticated');
});

/* A DataV-style file: district A by its adcode (a number) as a MultiPolygon, district B by its
 * name without the bureau suffix, and a neighbour that the import skips. */
function cityFile(a, b) {
  /* Positions with at most six decimals: the store keeps ten significant digits. */
  const r = (v) => Number(v.toFixed(6));
  const square = (x, y, s) => [[[x, y], [r(x + s), y], [r(x + s), r(y + s)], [x, r(y + s)], [x, y]]];
  return {
    type: 'FeatureCollection',
    features: [
      { type: 'Feature', properties: { adcode: Number(a.division_code), name: '某区' },
        geometry: { type: 'MultiPolygon', coordinates: [square(118.8, 36.3, 0.3), square(119.2, 36.3, 0.05)] } },
      { type: 'Feature', properties: { name: b.name.replace(/教育局$/, ''), adcode: '' },
        geometry: { type: 'Polygon', coordinates: square(118.4, 36.1, 0.35) } },
      { type: 'Feature', properties: { adcode: 999999, name: '邻市某县' },
        geometry: { type: 'Polygon', coordinates: square(120.1, 37.1, 0.2) } },
    ],
  };
}

test('edubrain import geojson: by adcode or name, others skipped; refused files write nothing', async () => {
  const admin = clients.admin;
  const before = await districts(admin);
  const a = (await admin.get(`/api/v1/orgs/${ids.districtA}`)).json;
  const b = (await admin.get(`/api/v1/orgs/${ids.districtB}`)).json;
  const dir = fs.mkdtempSync(path.join(srv.dir, 'geo-'));
  const write = (name, doc) => {
    const p = path.join(dir, name);
    fs.writeFileSync(p, typeof doc === 'string' ? doc : JSON.stringify(doc));
    return p;
  };
  const good = cityFile(a, b);

  /* Invalid geometries: every finding is reported (zh by default), nothing is written. */
  const bad = structuredClone(good);
  bad.features[0].geometry.coordinates[0][0][2] = [118.9, 95];
  bad.features[1].geometry.coordinates[0].pop();
  bad.features.push({ type: 'Feature', properties: { name: '点' }, geometry: { type: 'Point', coordinates: [118, 36] } });
  let res = expectExit(await cli([write('bad.json', bad)]), 1, 'invalid geometries');
  assert.match(res.stdout, /要素 0（某区）：第 0 个多边形第 0 个环第 2 个坐标：必须是 \[经度 -180\.\.180, 纬度 -90\.\.90\]/);
  assert.match(res.stdout, /要素 1（青山县）：第 0 个多边形第 0 个环：最后一个坐标必须与第一个相同/);
  assert.match(res.stdout, /要素 3（点）：几何类型必须是 Polygon 或 MultiPolygon/);
  assert.match(res.stdout, /已拒绝：未写入任何数据/);
  res = expectExit(await cli([write('bad.json', bad), '--lang', 'en']), 1, 'invalid geometries, English');
  assert.match(res.stdout, /feature 0 \(某区\): polygon 0, ring 0, position 2: must be \[longitude/);
  assert.match(res.stdout, /refused: nothing was written/);
  assert.deepEqual(await districts(admin), before, 'nothing written by a refused file');

  /* Two features for one district, and a file that is not JSON or not a FeatureCollection. */
  const twice = structuredClone(good);
  twice.features[1].properties.name = a.name;
  res = expectExit(await cli([write('twice.json', twice)]), 1, 'two features for one district');
  assert.match(res.stdout, new RegExp(`要素 1（${a.name}）：${a.name} 已对应要素 0`));
  expectExit(await cli([write('broken.json', '{"type": "FeatureCollection", "features": [')]), 1, 'broken JSON');
  res = expectExit(await cli([write('point.json', { type: 'Feature', geometry: null })]), 1, 'not a collection');
  assert.match(res.stdout, /文件必须是带 features 数组的 GeoJSON FeatureCollection/);
  const none = { type: 'FeatureCollection', features: [good.features[2]] };
  res = expectExit(await cli([write('none.json', none)]), 1, 'no feature of the city');
  assert.match(res.stdout, /没有任何要素对应本市的区县/);
  expectExit(await cli([]), 2, 'no file');
  assert.deepEqual(await districts(admin), before, 'nothing written by the refused files');

  /* The good file: both districts imported as given, the neighbour skipped. */
  res = expectExit(await cli([write('city.json', good)]), 0, 'import');
  assert.match(res.stdout, /要素 2（邻市某县，adcode 999999）：没有对应的区县，已跳过/);
  assert.match(res.stdout, /已导入 2\/3 个要素；跳过 1 个；0 个区县不在文件中/);
  const after = await districts(admin);
  const fa = after.find((f) => f.properties.org_id === ids.districtA);
  const fb = after.find((f) => f.properties.org_id === ids.districtB);
  assert.equal(fa.properties.source, 'imported');
  assert.deepEqual(fa.geometry, good.features[0].geometry);
  assert.deepEqual(fb.geometry, good.features[1].geometry);
  assert.deepEqual((await districts(clients.district1))[0].geometry, good.features[0].geometry);

  /* A later file with district A only: B keeps its imported boundary. */
  const onlyA = { type: 'FeatureCollection', features: [structuredClone(good.features[0])] };
  onlyA.features[0].geometry = { type: 'Polygon', coordinates: [[[118.5, 36.2], [119.5, 36.2], [119, 36.9], [118.5, 36.2]]] };
  res = expectExit(await cli([write('a.json', onlyA), '--lang', 'en']), 0, 'import of one district');
  assert.match(res.stdout, new RegExp(`${b.name}: not in the file; keeps its boundary`));
  assert.match(res.stdout, /imported 1 of 1 features; 0 skipped; 1 districts not in the file/);
  const last = await districts(admin);
  assert.deepEqual(last.find((f) => f.properties.org_id === ids.districtA).geometry, onlyA.features[0].geometry);
  assert.deepEqual(last.find((f) => f.properties.org_id === ids.districtB).geometry, good.features[1].geometry);

  /* The imports are in the audit log of each district. */
  const audit = expectStatus(await admin.get(`/api/v1/audit?org=${ids.districtA}`), 200).json;
  const rows = audit.items.filter((e) => e.action === 'geo.boundary');
  assert.ok(rows.length >= 2, `audit rows: ${JSON.stringify(audit.items.slice(0, 3))}`);
});

test('error answers follow the contract', () => {
  assertErrorsWellFormed();
});
