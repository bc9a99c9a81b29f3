// Number and date formatting of the brain's pages, in the interface language.

/* A figure with thousands separators and at most `decimals` decimals; '—' when there is none. */
export function fmtNumber(v, locale, decimals = 0) {
  if (v === null || v === undefined || !Number.isFinite(Number(v))) return '—';
  return new Intl.NumberFormat(locale === 'en' ? 'en-US' : 'zh-CN', {
    maximumFractionDigits: decimals, minimumFractionDigits: 0,
  }).format(Number(v));
}

/* A value with its unit: "96.5 %", "1,234 人". Units come from the API in both languages. */
export function fmtValue(v, unit, locale, decimals = 1) {
  const n = fmtNumber(v, locale, decimals);
  if (n === '—' || !unit) return n;
  return unit === '%' ? `${n} %` : `${n} ${unit}`;
}

/* The text of a {zh, en} pair (or a plain string) in the interface language. */
export function pick(pair, locale) {
  if (pair === null || pair === undefined) return '';
  if (typeof pair === 'string') return pair;
  return (locale === 'en' ? pair.en : pair.zh) || pair.zh || pair.en || '';
}

/* "YYYY-MM-DD" of a Date in local time (the city's calendar day). */
export function ymd(d) {
  const p = (x) => String(x).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`;
}

/* The running type (办学类型, JY/T 1001) of a school as one of the map's groups. */
export function runningGroup(code) {
  const c = String(code || '');
  if (c.startsWith('1')) return 'preschool';
  if (c.startsWith('2')) return 'primary';
  if (c.startsWith('31')) return 'junior';
  if (c.startsWith('34')) return 'senior';
  if (c.startsWith('36')) return 'vocational';
  if (c.startsWith('5')) return 'special';
  return 'other';
}

export const RUNNING_GROUPS = ['preschool', 'primary', 'junior', 'senior', 'vocational', 'special', 'other'];
