// Browser test of the education map (教育地图) at city scale: the demo's 1,300 schools over nine
// districts. The city view shows bubbles with counts that add up to the API's schools, a click on
// a bubble zooms in until its schools are dots of their own (one of them opens its popup), and a
// click on a district's polygon, where no bubble covers it, opens that district's map.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useCityServer, ADMIN_PW, baseUrl, openBrowser, shot, login, apiSession } from './lib/harness.mjs';
import { DOT_PX, MAX_DOTS_PER_CELL } from '../../web/src/brain/cluster.js';

useCityServer({ scale: 'city' });

const canvasData = (page) => page.evaluate(() => ({ ...document.querySelector('[data-test=map-canvas]').dataset }));
const shown = (page) => page.evaluate(() => document.querySelector('[data-test=map-canvas]').ebShown());

/* Every open school with coordinates under the city, page by page as the API lists them. */
async function apiSchools(admin, cityId) {
  const children = async (id) => {
    const out = [];
    let after = '';
    for (;;) {
      const page = await admin.get(`/orgs/${id}/children?limit=500${after ? `&after=${after}` : ''}`);
      out.push(...page.items);
      if (page.next === null || page.next === undefined || !page.items.length) return out;
      after = page.next;
    }
  };
  const districts = (await children(cityId)).filter((o) => o.kind === 'district' && !o.closed_on);
  const lists = await Promise.all(districts.map((d) => children(d.id)));
  return lists.flat().filter((o) => o.kind === 'school' && !o.closed_on && typeof o.lat === 'number' && typeof o.lon === 'number');
}

/* Whether [lon, lat] lies inside a ring (even-odd rule). */
function inRing([x, y], ring) {
  let inside = false;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    const [xi, yi] = ring[i];
    const [xj, yj] = ring[j];
    if ((yi > y) !== (yj > y) && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

/* Waits until the map shows every school of the view once (bubbles and dots together). */
async function settled(page, n) {
  await page.waitForFunction((want) => {
    const d = document.querySelector('[data-test=map-canvas]')?.dataset;
    return d && Number(d.schools) === want && Number(d.clusterSum) + Number(d.singles) === want;
  }, n);
}

test('admin: the city map clusters 1,300 schools, zooms into a bubble, drills to a district', async (t) => {
  const { page, errors } = await openBrowser(t, { width: 1600, height: 900 });
  const admin = await apiSession('admin', ADMIN_PW);
  const city = admin.me.roles[0].org.id;
  const schools = await apiSchools(admin, city);
  const fc = await admin.get('/geo/districts');
  assert.equal(fc.features.length, 9);
  /* The boundaries' own counts agree with the org tree. */
  assert.equal(fc.features.reduce((a, f) => a + f.properties.n_schools, 0), schools.length);
  assert.ok(schools.length > 1000, `a city-scale demo: ${schools.length} schools`);

  await page.goto(baseUrl + '/login');
  await login(page, 'admin', ADMIN_PW);
  await page.goto(`${baseUrl}/brain/map/${city}`);
  await settled(page, schools.length);
  await page.waitForTimeout(600); /* the entry animation */
  const canvas = page.locator('[data-test=map-canvas]');
  const box = await canvas.boundingBox();

  /* The city view: clustered, the counts adding up to the API's schools, each school once. */
  let d = await canvasData(page);
  assert.equal(d.clustered, '1');
  assert.equal(Number(d.regions), 9);
  let s = await shown(page);
  const ids = [...s.clusters.flatMap((c) => c.ids), ...s.singles.map((x) => x.id)].sort((a, b) => a - b);
  assert.deepEqual(ids, schools.map((x) => x.id).sort((a, b) => a - b));
  assert.equal(s.clusters.reduce((a, c) => a + c.count, 0), Number(d.clusterSum));
  assert.equal(Number(d.clusterSum) + s.singles.length, schools.length);
  /* Readable: far fewer marks than schools, mostly bubbles, every bubble big enough for its
   * number and inside the canvas, no two covering each other by more than a fifth. */
  assert.ok(s.clusters.length >= 10 && s.clusters.length + s.singles.length < schools.length / 8,
    `${s.clusters.length} bubbles and ${s.singles.length} dots for ${schools.length} schools`);
  assert.ok(Number(d.clusterSum) > schools.length * 0.9);
  for (const c of s.clusters) {
    assert.ok(c.count >= 2 && c.r * 2 >= 18, `bubble of ${c.count}, ${c.r * 2} px`);
    assert.ok(c.x - c.r >= 0 && c.y - c.r >= 0 && c.x + c.r <= box.width && c.y + c.r <= box.height, 'a bubble outside the map');
  }
  for (let a = 0; a < s.clusters.length; a++) {
    for (let b = a + 1; b < s.clusters.length; b++) {
      const [p, q] = [s.clusters[a], s.clusters[b]];
      assert.ok(Math.hypot(p.x - q.x, p.y - q.y) >= (p.r + q.r) * 0.8 - 0.5, `bubbles of ${p.count} and ${q.count} overlap`);
    }
  }
  await shot(page, 'map-city-clusters');

  /* A click on the biggest bubble zooms in on it: its schools now spread over several marks,
   * none as big as it was. Follow one of its schools until it is a dot of its own. */
  const big = s.clusters.slice().sort((a, b) => b.count - a.count)[0];
  const tracked = big.ids[0];
  let target = big;
  let zoom = Number(d.zoom);
  for (let k = 0; k < 6 && target; k++) {
    await page.mouse.click(box.x + target.x, box.y + target.y);
    await page.waitForFunction((z) => Number(document.querySelector('[data-test=map-canvas]').dataset.zoom) > z, zoom);
    await settled(page, schools.length);
    d = await canvasData(page);
    assert.ok(Number(d.zoom) >= zoom * 2 - 0.01, `zoom ${zoom} -> ${d.zoom}`);
    zoom = Number(d.zoom);
    const before = target;
    s = await shown(page);
    const marks = [...s.clusters.map((c) => ({ ...c, n: c.count })), ...s.singles.map((x) => ({ ...x, ids: [x.id], n: 1 }))];
    const holding = marks.filter((m) => m.ids.some((id) => before.ids.includes(id)));
    assert.ok(holding.length >= 2, `after the click the ${before.count} schools are in ${holding.length} mark(s)`);
    assert.ok(Math.max(...holding.map((m) => m.n)) < before.count);
    if (k === 0) await shot(page, 'map-city-zoomed');
    target = s.clusters.find((c) => c.ids.includes(tracked));
  }
  assert.equal(target, undefined, `school ${tracked} is still in a bubble at zoom ${zoom}`);
  const dot = s.singles.find((x) => x.id === tracked);
  assert.ok(dot, `school ${tracked} shown as a dot`);
  await page.waitForTimeout(400);
  await page.mouse.click(box.x + dot.x, box.y + dot.y);
  await page.locator(`[data-test=school-popup][data-id="${tracked}"]`).waitFor();
  assert.equal(await page.locator('[data-test=school-popup] h2').innerText(), schools.find((x) => x.id === tracked).name);
  await shot(page, 'map-city-school');

  /* Back at the city view, a click on a district's polygon, at a pixel inside it that no bubble
   * or dot covers, opens that district's map. */
  await page.goto(`${baseUrl}/brain/map/${city}`);
  await settled(page, schools.length);
  await page.waitForTimeout(600);
  s = await shown(page);
  const marks = [...s.clusters, ...s.singles];
  const district = fc.features.slice().sort((a, b) => b.properties.n_schools - a.properties.n_schools)[0];
  const g = district.geometry;
  const ring = g.type === 'Polygon' ? g.coordinates[0] : g.coordinates[0][0];
  const lons = ring.map((p) => p[0]);
  const lats = ring.map((p) => p[1]);
  const candidates = [];
  for (let i = 1; i < 20; i++) {
    for (let j = 1; j < 20; j++) {
      const ll = [Math.min(...lons) + ((Math.max(...lons) - Math.min(...lons)) * i) / 20, Math.min(...lats) + ((Math.max(...lats) - Math.min(...lats)) * j) / 20];
      if (inRing(ll, ring)) candidates.push(ll);
    }
  }
  const pixels = await canvas.evaluate((el, lls) => lls.map((ll) => el.ebPixel(ll)), candidates);
  /* The free pixel farthest from any mark, and not under the legends in the corners. */
  const free = pixels
    .map(([x, y]) => ({ x, y, gap: Math.min(...marks.map((m) => Math.hypot(m.x - x, m.y - y) - m.r)) }))
    .filter((p) => p.x > 120 && p.x < box.width - 260 && p.y > 20 && p.y < box.height - 20)
    .sort((a, b) => b.gap - a.gap)[0];
  assert.ok(free && free.gap > 6, `a free pixel inside ${district.properties.name}: ${JSON.stringify(free)}`);
  await page.mouse.click(box.x + free.x, box.y + free.y);
  await page.waitForURL(new RegExp(`/brain/map/${district.properties.org_id}$`));
  await page.waitForFunction(() => document.querySelector('[data-test=map-canvas]')?.dataset.regions === '1');
  await settled(page, district.properties.n_schools);
  await page.waitForTimeout(600);
  /* The district's map: its own schools, most of them as dots; bubbles only where they would
   * cover one another. */
  d = await canvasData(page);
  s = await shown(page);
  const mine = new Set(schools.filter((x) => x.path.includes(`/${district.properties.org_id}/`)).map((x) => x.id));
  const shownIds = [...s.clusters.flatMap((c) => c.ids), ...s.singles.map((x) => x.id)];
  assert.equal(shownIds.length, district.properties.n_schools);
  assert.equal(mine.size, district.properties.n_schools);
  assert.ok(shownIds.every((id) => mine.has(id)));
  assert.ok(s.singles.length >= 10, `${s.singles.length} dots of ${district.properties.n_schools} schools`);
  /* A bubble only where its schools' dots would cover one another (or crowd its cell): checked
   * with the API's coordinates of its members, projected where the map draws them. */
  const byId = new Map(schools.map((x) => [x.id, x]));
  for (const c of s.clusters) {
    assert.ok(c.count >= 2);
    const px = await canvas.evaluate((el, lls) => lls.map((ll) => el.ebPixel(ll)), c.ids.map((id) => [byId.get(id).lon, byId.get(id).lat]));
    const touching = px.some((p, a) => px.some((q, b) => a !== b && Math.hypot(p[0] - q[0], p[1] - q[1]) < DOT_PX));
    assert.ok(touching || c.count > MAX_DOTS_PER_CELL, `a bubble of ${c.count} schools whose dots would stand apart`);
  }
  await shot(page, 'map-city-district');
  assert.deepEqual(errors, []);
});
