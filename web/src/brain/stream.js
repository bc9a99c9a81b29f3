// The live stream of the brain (GET /api/v1/stream?org=ID, Server-Sent Events): cell changes
// and alerts of a scope. EventSource reconnects by itself; the page is told whether it is live.

/**
 * Opens the stream of org and calls onCells({changes}) at most once per `minGapMs` (a burst of
 * ingest becomes one refresh), onAlert(alert) for every alert event, onState('live' |
 * 'reconnecting'). Returns a function that closes it.
 */
export function openStream(org, { onCells, onAlert, onState, minGapMs = 250 }) {
  const es = new EventSource(`/api/v1/stream?org=${encodeURIComponent(org)}`, { withCredentials: true });
  let pending = null;
  let timer = null;
  let last = 0;
  const flush = () => {
    timer = null;
    last = Date.now();
    const batch = pending;
    pending = null;
    if (batch && onCells) onCells(batch);
  };
  es.addEventListener('cells', (e) => {
    let data;
    try {
      data = JSON.parse(e.data);
    } catch (err) {
      return;
    }
    const changes = (data && data.changes) || [];
    pending = pending ? { changes: pending.changes.concat(changes) } : { changes };
    if (timer) return;
    timer = setTimeout(flush, Math.max(0, minGapMs - (Date.now() - last)));
  });
  es.addEventListener('alert', (e) => {
    try {
      if (onAlert) onAlert(JSON.parse(e.data));
    } catch (err) {
      /* A malformed event is dropped; the next refresh of the feed shows the truth. */
    }
  });
  es.onopen = () => onState && onState('live');
  es.onerror = () => onState && onState(es.readyState === EventSource.CLOSED ? 'closed' : 'reconnecting');
  return () => {
    if (timer) clearTimeout(timer);
    es.close();
  };
}
