// A cursor-paged list loader for {"items":[…],"next":…} endpoints ("加载更多").
import { ref } from 'vue';
import { get } from '../api.js';

export function usePaged() {
  const items = ref([]);
  const next = ref(null);
  const loading = ref(false);
  const error = ref(null);
  let base = null;
  let generation = 0;

  async function fetchPage(after) {
    const gen = generation;
    loading.value = true;
    error.value = null;
    try {
      const sep = base.includes('?') ? '&' : '?';
      const data = await get(base + (after != null ? `${sep}after=${encodeURIComponent(after)}` : ''));
      /* A newer reset() means the user moved on; drop this stale page. */
      if (gen !== generation) return;
      items.value = items.value.concat(data.items || []);
      next.value = data.next ?? null;
    } catch (e) {
      if (gen === generation) error.value = e;
    } finally {
      if (gen === generation) loading.value = false;
    }
  }

  function reset(path) {
    generation += 1;
    base = path;
    items.value = [];
    next.value = null;
    return fetchPage(null);
  }

  const more = () => (next.value != null && !loading.value ? fetchPage(next.value) : Promise.resolve());
  return { items, next, loading, error, reset, more };
}
