// Clustering of school points for the map at low zoom: a grid over the view, one bubble per
// occupied cell with the number of schools in it. A city has about 1,300 schools: drawn one by
// one at city scale they hide the districts' colours, and a grid is exact and instant at that
// size (no index needed).

/**
 * points: [{lon, lat, ...}]; cellDeg: the grid's cell in degrees. Returns
 * [{lon, lat, count, items}] with the mean position of each cell's points.
 */
export function gridCluster(points, cellDeg) {
  const cells = new Map();
  for (const p of points) {
    const key = `${Math.floor(p.lon / cellDeg)}:${Math.floor(p.lat / cellDeg)}`;
    let c = cells.get(key);
    if (!c) {
      c = { lon: 0, lat: 0, count: 0, items: [] };
      cells.set(key, c);
    }
    c.lon += p.lon;
    c.lat += p.lat;
    c.count += 1;
    c.items.push(p);
  }
  return [...cells.values()].map((c) => ({ ...c, lon: c.lon / c.count, lat: c.lat / c.count }));
}

/* The cell size for a zoom level of the geo component over a map spanning `spanDeg` degrees:
 * about twelve cells across the visible width. */
export function cellForZoom(spanDeg, zoom) {
  return spanDeg / 12 / Math.max(zoom, 1);
}
