// Small display helpers shared by the transfer pages.
export const dateTime = (unix) => {
  if (!unix) return '—';
  const d = new Date(unix * 1000);
  const p = (x) => String(x).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}`;
};
export const place = (x) => [x.school && x.school.name, x.class && x.class.name].filter(Boolean).join(' · ');
