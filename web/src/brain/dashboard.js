// What the big screen shows first, read from GET /dashboard (the headline KPIs of a scope), with
// the registry's counts (GET /orgs/{id}/stats) where the answer has none: one flat list of
// tiles, each with its raw value for the tests and the export.

/* The headline KPIs of issue #6, in screen order: the key, the patterns of the indicator codes
 * that carry it (config/indicators.json; tried in order, so a city's renamed code still
 * fits), and how it is shown. */
export const KPI_TILES = [
  { key: 'schools', kind: 'count' },
  { key: 'teachers', kind: 'count' },
  { key: 'students', kind: 'count' },
  { key: 'registration', kind: 'rate', match: [/^accounts\.registration_rate$/, /regist/] },
  { key: 'attendance', kind: 'rate', match: [/^attendance\.rate$/, /attendance/] },
  { key: 'afterschool', kind: 'rate', match: [/^afterschool\.student_rate$/, /afterschool.*student/, /afterschool/] },
  { key: 'multimedia', kind: 'rate', match: [/^equipment\.multimedia_coverage$/, /multimedia.*coverage/, /multimedia/] },
  { key: 'alerts', kind: 'count' },
];

const num = (v) => (v === null || v === undefined || v === '' || !Number.isFinite(Number(v)) ? null : Number(v));

/* A KPI entry of the answer as {code, value, unit, decimals, name}, whatever its spelling. */
function entry(code, x) {
  if (x === null || x === undefined) return null;
  if (typeof x !== 'object') return { code, value: num(x) };
  const code2 = x.indicator || x.code || code;
  return {
    code: typeof code2 === 'object' ? code2.code : code2,
    value: num(x.value),
    unit: x.unit,
    decimals: x.decimals,
    name: x.name,
    numerator: num(x.numerator),
    denominator: num(x.denominator),
  };
}

/* Every KPI entry of the answer: arrays (kpis, indicators, items) or objects keyed by code. */
function entries(doc) {
  const out = [];
  for (const k of ['kpis', 'indicators', 'items', 'figures']) {
    const v = doc && doc[k];
    if (Array.isArray(v)) v.forEach((x) => { const e = entry(null, x); if (e && e.code) out.push(e); });
    else if (v && typeof v === 'object') Object.entries(v).forEach(([c, x]) => { const e = entry(c, x); if (e) out.push(e); });
  }
  return out;
}

/* The counts of schools, teachers and students of GET /dashboard, with counts.by_stage: an
 * object keyed by stage code, each {students, teachers}. */
function counts(doc) {
  const c = (doc && doc.counts) || {};
  return {
    schools: num(c.schools),
    teachers: num(c.teachers),
    students: num(c.students),
    byStage: c.by_stage || null,
  };
}

/* Stages in school order, the order of the split under a tile ("unknown" last). */
export const STAGES = ['preschool', 'primary', 'junior', 'senior', 'vocational', 'special', 'lifelong', 'unknown'];

/* The split of one count ('students' or 'teachers') by stage as [{stage, n}], in school order,
 * leaving out the stages without any. */
export function stageSplit(byStage, what) {
  if (!byStage) return [];
  return STAGES.filter((stage) => byStage[stage])
    .map((stage) => ({ stage, n: num(byStage[stage][what]) }))
    .filter((x) => x.n !== null && x.n > 0);
}

/* A count in few characters for the split under a tile ("12.5万", "125K"); the exact figure
 * goes in its title. */
export function fmtCompact(v, locale) {
  if (v === null || v === undefined || !Number.isFinite(Number(v))) return '—';
  return new Intl.NumberFormat(locale === 'en' ? 'en-US' : 'zh-CN', {
    notation: 'compact', maximumFractionDigits: 1,
  }).format(Number(v));
}

/**
 * The tiles: [{key, kind, value, unit, decimals, code, split}] from the dashboard answer, the
 * registry's stats (fallback for the counts) and the open alerts counted by the page.
 */
export function buildTiles(doc, stats, nAlerts) {
  const es = entries(doc);
  const cs = counts(doc);
  const tiles = [];
  for (const t of KPI_TILES) {
    const tile = { key: t.key, kind: t.kind, value: null, unit: null, decimals: 0, code: null, split: [] };
    if (t.kind === 'count' && t.key !== 'alerts') {
      tile.value = cs[t.key] ?? num(stats && stats[t.key]);
      tile.split = stageSplit(cs.byStage, t.key);
    } else if (t.key === 'alerts') {
      const a = doc && (doc.alerts ?? doc.open_alerts);
      tile.value = num(a && typeof a === 'object' ? (a.open ?? a.count ?? (Array.isArray(a) ? a.length : null)) : a) ?? nAlerts;
    } else {
      let e = null;
      for (const re of t.match) {
        e = e || es.find((x) => re.test(String(x.code)));
      }
      if (e) {
        tile.value = e.value;
        tile.unit = e.unit;
        tile.decimals = e.decimals ?? 1;
        tile.code = e.code;
      }
    }
    tiles.push(tile);
  }
  return tiles;
}

/* The indicator the trend and the bars show first: attendance, else the first rate known. */
export function defaultIndicator(list, prefer) {
  const codes = (list || []).map((x) => x.code);
  for (const re of prefer) {
    const c = codes.find((x) => re.test(x));
    if (c) return c;
  }
  return codes[0] || null;
}

/* Quartiles of a list of numbers (linear interpolation, as a boxplot draws them). */
export function quartiles(values) {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return null;
  const q = (p) => {
    const i = (v.length - 1) * p;
    const lo = Math.floor(i);
    const hi = Math.ceil(i);
    return v[lo] + (v[hi] - v[lo]) * (i - lo);
  };
  return [v[0], q(0.25), q(0.5), q(0.75), v[v.length - 1]];
}
