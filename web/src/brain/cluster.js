// Clustering of the education map's school points, in screen pixels: whether the schools in view
// are dense enough to need it, a grid of bubbles with their counts where they are, and the merge
// of bubbles that would still cover each other. Pure functions: the map view converts the
// schools' longitudes and latitudes to pixels first, and the tests call them directly.

/* The map draws a school as a dot of this diameter: two dots closer than this cover each other. */
export const DOT_PX = 9;
/* The grid's cell: wider than the largest bubble, so that one bubble per cell rarely overlaps the
 * next and a click on it lands on one cluster. */
export const CELL_PX = 64;
/* Below this many schools in view every school is a dot: a few dozen coloured dots stay readable
 * however close they are, and a cluster of three would hide more than it saves. */
export const MIN_POINTS = 40;
/* The share of the schools in view that touch another dot above which the view clusters. At the
 * city's scale (1,300 schools in 600 pixels) most dots touch; on a district's map (100 to 200
 * schools over the whole canvas) a few do, and users expect the schools themselves there. */
export const MAX_OVERLAP_SHARE = 0.25;
/* A cell holding more schools than this is a bubble even if no two of its dots touch: a bubble
 * reads better than a dozen dots in a 64-pixel square. */
export const MAX_DOTS_PER_CELL = 6;
/* Bubbles may touch by this share of their summed radii before they merge into one. */
export const MERGE_OVERLAP = 0.2;

const cellOf = (v, origin, cell) => Math.floor((v - origin) / cell);

/**
 * points: [{x, y, ...}] in pixels; cellPx: the grid's cell; origin: {x, y}, the pixel of a fixed
 * place on the map, so that the cells follow the map when it is panned. Returns one cluster per
 * occupied cell, [{x, y, count, items, cells: [[i, j]], box: [x0, y0, x1, y1]}], ordered by cell
 * (row, then column): x and y are the mean of its points, inside its cell.
 */
export function gridCluster(points, cellPx = CELL_PX, origin = { x: 0, y: 0 }) {
  const cells = new Map();
  for (const p of points) {
    const i = cellOf(p.x, origin.x, cellPx);
    const j = cellOf(p.y, origin.y, cellPx);
    const key = `${j}:${i}`;
    let c = cells.get(key);
    if (!c) {
      c = { i, j, sx: 0, sy: 0, items: [] };
      cells.set(key, c);
    }
    c.sx += p.x;
    c.sy += p.y;
    c.items.push(p);
  }
  /* A Map keeps insertion order, which follows the input's: sort by cell for an order that
   * depends on the places alone. */
  return [...cells.values()]
    .sort((a, b) => a.j - b.j || a.i - b.i)
    .map((c) => {
      const x0 = origin.x + c.i * cellPx;
      const y0 = origin.y + c.j * cellPx;
      return {
        x: c.sx / c.items.length, y: c.sy / c.items.length, count: c.items.length, items: c.items,
        cells: [[c.i, c.j]], box: [x0, y0, x0 + cellPx, y0 + cellPx],
      };
    });
}

/* The diameter in pixels of a bubble of n schools: grows with the square root (the area with
 * the count) up to a cap below the cell, so that 300 schools do not cover a district. */
export function bubbleSize(n) {
  return Math.min(54, 18 + 3.2 * Math.sqrt(Math.max(n, 1)));
}

/* The share of points that have another point closer than distPx: a grid of distPx cells, so
 * that each point is compared with the few in its own and the eight neighbouring cells. */
export function overlapShare(points, distPx = DOT_PX) {
  if (points.length < 2) return 0;
  const grid = new Map();
  points.forEach((p, k) => {
    const key = `${Math.floor(p.x / distPx)}:${Math.floor(p.y / distPx)}`;
    if (!grid.has(key)) grid.set(key, []);
    grid.get(key).push(k);
  });
  const d2 = distPx * distPx;
  let touching = 0;
  points.forEach((p, k) => {
    const i = Math.floor(p.x / distPx);
    const j = Math.floor(p.y / distPx);
    let found = false;
    for (let di = -1; di <= 1 && !found; di++) {
      for (let dj = -1; dj <= 1 && !found; dj++) {
        for (const m of grid.get(`${i + di}:${j + dj}`) || []) {
          if (m === k) continue;
          const dx = points[m].x - p.x;
          const dy = points[m].y - p.y;
          if (dx * dx + dy * dy < d2) {
            found = true;
            break;
          }
        }
      }
    }
    if (found) touching++;
  });
  return touching / points.length;
}

/* Whether the points in view need clusters: enough of them, and enough touching one another. */
export function shouldCluster(inView, { minPoints = MIN_POINTS, maxShare = MAX_OVERLAP_SHARE, dotPx = DOT_PX } = {}) {
  return inView.length >= minPoints && overlapShare(inView, dotPx) > maxShare;
}

function merged(a, b) {
  const count = a.count + b.count;
  return {
    x: (a.x * a.count + b.x * b.count) / count,
    y: (a.y * a.count + b.y * b.count) / count,
    count,
    items: [...a.items, ...b.items],
    cells: [...a.cells, ...b.cells],
    box: [Math.min(a.box[0], b.box[0]), Math.min(a.box[1], b.box[1]), Math.max(a.box[2], b.box[2]), Math.max(a.box[3], b.box[3])],
  };
}

/**
 * Merges bubbles that cover each other by more than `overlap` of their summed radii, until none
 * does: the centre of a merge is the weighted mean of its parts, so it stays inside the box of
 * their cells. The pairs are taken in a fixed order, which keeps the result deterministic.
 */
export function mergeOverlapping(clusters, size = bubbleSize, overlap = MERGE_OVERLAP) {
  let list = clusters.slice();
  for (let again = true; again;) {
    again = false;
    outer: for (let a = 0; a < list.length; a++) {
      for (let b = a + 1; b < list.length; b++) {
        const ra = size(list[a].count) / 2;
        const rb = size(list[b].count) / 2;
        if (Math.hypot(list[a].x - list[b].x, list[a].y - list[b].y) < (ra + rb) * (1 - overlap)) {
          const m = merged(list[a], list[b]);
          list = [...list.slice(0, a), m, ...list.slice(a + 1, b), ...list.slice(b + 1)];
          again = true;
          break outer;
        }
      }
    }
  }
  return list;
}

/**
 * What the map draws: points [{x, y, ...}] in pixels over a view of width × height pixels.
 * Returns {clustered, inView, clusters, singles}. Unclustered, every point is a single. Clustered,
 * a cell is a bubble where its dots would cover one another or are too many for the cell
 * (bubbles that would cover each other merged); the other points stay singles unless a bubble
 * covers them. Every point is in exactly one of the two lists.
 */
export function clusterView(points, { width, height, origin = { x: 0, y: 0 }, cellPx = CELL_PX, ...rule } = {}) {
  const inView = points.filter((p) => p.x >= 0 && p.y >= 0 && p.x <= width && p.y <= height);
  if (!shouldCluster(inView, rule)) return { clustered: false, inView: inView.length, clusters: [], singles: points.slice() };
  const dotPx = rule.dotPx || DOT_PX;
  const maxDots = rule.maxDots || MAX_DOTS_PER_CELL;
  const cells = gridCluster(points, cellPx, origin);
  /* Only where dots would cover one another: a cell whose few dots all stand apart keeps them. */
  const dense = (c) => c.count > maxDots || (c.count >= 2 && overlapShare(c.items, dotPx) > 0);
  const bubbles = mergeOverlapping(cells.filter(dense));
  const singles = [];
  for (const c of cells.filter((x) => !dense(x))) {
    for (const p of c.items) {
      /* A dot under a bubble could be neither seen nor clicked: it joins the bubble. */
      const k = bubbles.findIndex((b) => Math.hypot(b.x - p.x, b.y - p.y) < bubbleSize(b.count) / 2 + dotPx / 2);
      if (k < 0) singles.push(p);
      else bubbles[k] = merged(bubbles[k], { x: p.x, y: p.y, count: 1, items: [p], cells: c.cells, box: c.box });
    }
  }
  return { clustered: bubbles.length > 0, inView: inView.length, clusters: bubbles, singles };
}
