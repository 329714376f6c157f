// Loads in flight: counted, so that tests (and curious users) can wait for settled views, and shown:
// the panels are aria-busy, the status says what is loading, the search cannot be sent twice.
import { byId, clear, h, say } from './dom-helpers.js';

let busy = 0;

/** Loads in flight (profile opening, refresh after a change); 0 when the views are settled. */
export const loadsInFlight = (): number => busy;

export async function tracked<T>(work: () => Promise<T>, what = 'Loading…'): Promise<T> {
  // Only the first load in flight shows progress and the last one ends it: a nested load must not
  // overwrite what an inner one has just said (e.g. "200 of 100000 incoming").
  if (busy++ === 0) showBusy(what);
  try {
    return await work();
  } finally {
    if (--busy === 0) showBusy(what);
  }
}

function showBusy(what: string): void {
  const loading = busy > 0;
  const panels = byId('panels');
  const submit = byId<HTMLButtonElement>('find-submit');
  const graphStatus = byId('graph-status');
  if (loading) {
    panels.setAttribute('aria-busy', 'true');
    submit.disabled = true;
    if (graphStatus.dataset.kind !== 'busy') {
      clear(graphStatus);
      graphStatus.append(h('span', { class: 'spinner', 'aria-hidden': 'true' }), what);
      graphStatus.dataset.kind = 'busy';
    }
  } else {
    panels.removeAttribute('aria-busy');
    submit.disabled = false;
    if (graphStatus.dataset.kind === 'busy') say(graphStatus, '');
  }
}
