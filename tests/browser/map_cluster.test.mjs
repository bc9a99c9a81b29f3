// Unit tests of the education map's clustering (web/src/brain/cluster.js), in Node without a
// browser: the functions are pure, over pixel positions. They sit with the browser tests because
// that is where `make browser` runs the web UI's JavaScript.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  gridCluster, overlapShare, shouldCluster, mergeOverlapping, clusterView, bubbleSize,
  CELL_PX, DOT_PX, MIN_POINTS, MERGE_OVERLAP,
} from '../../web/src/brain/cluster.js';

/* A seeded generator (mulberry32): the same "city" on every run. */
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/* A city of n schools in pixels: a dense core and towns around it, like the demo's 1,300
 * schools at the city view (most within a few hundred pixels), with ids. */
function city(n, seed = 7, { w = 1200, h = 800 } = {}) {
  const r = rng(seed);
  const towns = [[w / 2, h / 2, 40], [w * 0.3, h * 0.3, 25], [w * 0.7, h * 0.35, 25], [w * 0.35, h * 0.7, 30], [w * 0.65, h * 0.7, 20]];
  const pts = [];
  for (let id = 1; id <= n; id++) {
    const [cx, cy, sd] = towns[Math.floor(r() * towns.length)];
    /* Box-Muller: normal around the town. */
    const u = Math.max(r(), 1e-12);
    const v = r();
    const d = sd * Math.sqrt(-2 * Math.log(u));
    pts.push({ id, x: cx + d * Math.cos(2 * Math.PI * v), y: cy + d * Math.sin(2 * Math.PI * v) });
  }
  return pts;
}

function shuffled(list, seed) {
  const r = rng(seed);
  const a = list.slice();
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}

const idsOf = (items) => items.map((p) => p.id).sort((a, b) => a - b);
const inBox = (c) => c.x >= c.box[0] && c.x <= c.box[2] && c.y >= c.box[1] && c.y <= c.box[3];

test('gridCluster: every point in exactly one cell, the centre the mean inside the cell', () => {
  const pts = city(1336);
  const origin = { x: 13.5, y: -7.25 };
  const cells = gridCluster(pts, CELL_PX, origin);
  const seen = new Map();
  for (const c of cells) {
    assert.equal(c.count, c.items.length);
    assert.ok(c.count >= 1);
    for (const p of c.items) {
      assert.ok(!seen.has(p.id), `school ${p.id} in two cells`);
      seen.set(p.id, c);
      /* The point lies in its cell: the box of width CELL_PX anchored at the origin. */
      assert.ok(p.x >= c.box[0] && p.x < c.box[2] && p.y >= c.box[1] && p.y < c.box[3], `school ${p.id} outside its cell`);
    }
    assert.equal(c.box[2] - c.box[0], CELL_PX);
    assert.equal((c.box[0] - origin.x) % CELL_PX, 0);
    assert.ok(inBox(c), `centre ${c.x},${c.y} outside its cell ${c.box}`);
    const mx = c.items.reduce((a, p) => a + p.x, 0) / c.count;
    assert.ok(Math.abs(c.x - mx) < 1e-9);
  }
  assert.equal(seen.size, 1336);
  assert.equal(cells.reduce((a, c) => a + c.count, 0), 1336);
  /* One entry per occupied cell. */
  assert.equal(new Set(cells.map((c) => c.box.join())).size, cells.length);
});

test('gridCluster: deterministic, whatever the order of the input', () => {
  const pts = city(800, 3);
  const a = gridCluster(pts, CELL_PX);
  assert.deepEqual(gridCluster(pts, CELL_PX), a);
  const b = gridCluster(shuffled(pts, 11), CELL_PX);
  assert.equal(b.length, a.length);
  a.forEach((c, k) => {
    assert.deepEqual(c.box, b[k].box);
    assert.deepEqual(idsOf(c.items), idsOf(b[k].items));
    assert.ok(Math.abs(c.x - b[k].x) < 1e-9 && Math.abs(c.y - b[k].y) < 1e-9);
  });
});

test('gridCluster: a pan (points and origin moved alike) keeps the same clusters', () => {
  const pts = city(600, 5);
  const a = gridCluster(pts, CELL_PX, { x: 0, y: 0 });
  const moved = pts.map((p) => ({ ...p, x: p.x + 137.3, y: p.y - 58.9 }));
  const b = gridCluster(moved, CELL_PX, { x: 137.3, y: -58.9 });
  assert.deepEqual(b.map((c) => idsOf(c.items)), a.map((c) => idsOf(c.items)));
});

test('overlapShare: the share of points with a neighbour closer than the dot', () => {
  assert.equal(overlapShare([], DOT_PX), 0);
  assert.equal(overlapShare([{ x: 0, y: 0 }], DOT_PX), 0);
  /* Two dots 5 px apart touch; the third is far. */
  assert.equal(overlapShare([{ x: 0, y: 0 }, { x: 3, y: 4 }, { x: 100, y: 100 }], DOT_PX), 2 / 3);
  /* Exactly the distance does not count (strictly closer). */
  assert.equal(overlapShare([{ x: 0, y: 0 }, { x: DOT_PX, y: 0 }], DOT_PX), 0);
  /* The same as comparing every pair, on a city. */
  const pts = city(700, 9);
  let brute = 0;
  for (const p of pts) {
    if (pts.some((q) => q !== p && Math.hypot(p.x - q.x, p.y - q.y) < DOT_PX)) brute++;
  }
  assert.equal(overlapShare(pts, DOT_PX), brute / pts.length);
});

test('shouldCluster: only many points that touch one another', () => {
  /* A lattice 20 px apart: hundreds of points, none touching. */
  const lattice = [];
  for (let i = 0; i < 20; i++) for (let j = 0; j < 20; j++) lattice.push({ x: i * 20, y: j * 20 });
  assert.equal(shouldCluster(lattice), false);
  /* Dense, but fewer than MIN_POINTS: dots. */
  const few = Array.from({ length: MIN_POINTS - 1 }, (_, k) => ({ x: k, y: 0 }));
  assert.equal(shouldCluster(few), false);
  assert.equal(shouldCluster([...few, { x: MIN_POINTS, y: 0 }]), true);
  assert.equal(shouldCluster(city(1336)), true);
});

test('mergeOverlapping: bubbles that cover each other merge, the counts are kept', () => {
  const mk = (id, x, y, count) => ({ x, y, count, items: Array.from({ length: count }, (_, k) => ({ id: id * 1000 + k })), cells: [[id, 0]], box: [x - 32, y - 32, x + 32, y + 32] });
  /* 10 px apart: one bubble of 30 at the weighted mean. */
  const one = mergeOverlapping([mk(1, 100, 100, 10), mk(2, 110, 100, 20)]);
  assert.equal(one.length, 1);
  assert.equal(one[0].count, 30);
  assert.ok(Math.abs(one[0].x - (100 * 10 + 110 * 20) / 30) < 1e-9);
  assert.deepEqual(one[0].box, [68, 68, 142, 132]);
  /* Far apart: untouched. */
  assert.equal(mergeOverlapping([mk(1, 100, 100, 10), mk(2, 300, 100, 20)]).length, 2);
  /* On the grid of a city: no pair left overlapping, nothing lost, centres in their boxes. */
  const cells = gridCluster(city(1336), CELL_PX).filter((c) => c.count >= 2);
  const out = mergeOverlapping(cells);
  assert.equal(out.reduce((a, c) => a + c.count, 0), cells.reduce((a, c) => a + c.count, 0));
  for (const c of out) assert.ok(inBox(c), `merged centre outside its cells' box`);
  for (let a = 0; a < out.length; a++) {
    for (let b = a + 1; b < out.length; b++) {
      const d = Math.hypot(out[a].x - out[b].x, out[a].y - out[b].y);
      assert.ok(d >= (bubbleSize(out[a].count) / 2 + bubbleSize(out[b].count) / 2) * (1 - MERGE_OVERLAP) - 1e-9, 'two bubbles still cover each other');
    }
  }
});

test('clusterView: a city view clusters, every school counted exactly once', () => {
  const pts = city(1336);
  const v = clusterView(pts, { width: 1200, height: 800, origin: { x: 0, y: 0 } });
  assert.equal(v.clustered, true);
  assert.equal(v.inView, pts.filter((p) => p.x >= 0 && p.y >= 0 && p.x <= 1200 && p.y <= 800).length);
  const all = [...v.clusters.flatMap((c) => c.items), ...v.singles];
  assert.equal(all.length, 1336);
  assert.deepEqual(idsOf(all), pts.map((p) => p.id));
  assert.equal(v.clusters.reduce((a, c) => a + c.count, 0) + v.singles.length, 1336);
  /* Far fewer marks than schools, and no bubble of one. */
  assert.ok(v.clusters.length + v.singles.length < 300, `${v.clusters.length} bubbles and ${v.singles.length} dots`);
  for (const c of v.clusters) {
    assert.ok(c.count >= 2);
    assert.equal(c.count, c.items.length);
    assert.ok(inBox(c), 'a bubble outside its cells');
    /* No dot hidden under a bubble. */
    for (const s of v.singles) assert.ok(Math.hypot(c.x - s.x, c.y - s.y) >= bubbleSize(c.count) / 2 + DOT_PX / 2);
  }
  /* Deterministic: the same answer for the same view, and for the schools in another order. */
  assert.deepEqual(clusterView(pts, { width: 1200, height: 800 }), v);
  const w = clusterView(shuffled(pts, 2), { width: 1200, height: 800 });
  assert.deepEqual(w.clusters.map((c) => idsOf(c.items)), v.clusters.map((c) => idsOf(c.items)));
  assert.deepEqual(idsOf(w.singles), idsOf(v.singles));
});

test('clusterView: a sparse or zoomed-in view shows every school as a dot', () => {
  /* The same city ten times larger (zoomed in): the schools in view stand apart. */
  const pts = city(1336).map((p) => ({ ...p, x: p.x * 10 - 5400, y: p.y * 10 - 3600 }));
  const v = clusterView(pts, { width: 1200, height: 800 });
  assert.equal(v.clustered, false);
  assert.equal(v.clusters.length, 0);
  assert.equal(v.singles.length, 1336);
  /* Few schools, even close together: dots. */
  const few = city(MIN_POINTS - 1, 4);
  assert.equal(clusterView(few, { width: 1200, height: 800 }).clustered, false);
});

test('clusterView: where few dots stand apart inside a dense view, they stay dots', () => {
  /* A dense town that triggers clustering, and four schools 30 px apart in one far cell. */
  const town = Array.from({ length: 120 }, (_, k) => ({ id: k + 1, x: 200 + (k % 12) * 3, y: 200 + Math.floor(k / 12) * 3 }));
  const apart = [[900, 600], [930, 600], [900, 630], [930, 630]].map(([x, y], k) => ({ id: 1000 + k, x: x + 1, y: y + 1 }));
  /* Nine schools 12 px apart in another cell: none touch, but too many dots for one cell. */
  const many = Array.from({ length: 9 }, (_, k) => ({ id: 2000 + k, x: 705 + (k % 3) * 12, y: 205 + Math.floor(k / 3) * 12 }));
  const v = clusterView([...town, ...apart, ...many], { width: 1200, height: 800, origin: { x: 0, y: 0 } });
  assert.equal(v.clustered, true);
  assert.deepEqual(idsOf(v.singles), [1000, 1001, 1002, 1003]);
  assert.deepEqual(v.clusters.map((c) => c.count).sort((a, b) => a - b), [9, 120]);
});
