// Live updates (issue #16): the Explorer follows the change stream (Server-Sent Events, from the
// head: only changes made once the page signed in) and refreshes the open profile's graph, table and
// counter when another client attaches, detaches, strengthens or edits a relation the page shows.
// Changes arriving together are refreshed once (debounced); a change of another relation type, or
// between profiles the page does not show, refreshes nothing; nor does one the page shows already
// when its refresh is due (the page's own write, which the change form has refreshed), so the
// graph is not redrawn under the user's pointer a moment after they changed something. A small indicator says whether the
// page is live, reconnecting (EventSource resumes by itself from the last event id, so nothing is
// missed), lost (the server refused the stream; retried, and the views read afresh once back), or
// off (the server's change feed is switched off, TIES_FEED=off).
import { TiesApiError } from './api.js';
import { byId } from './dom-helpers.js';
import { callApi, selectedType, state } from './explorer-state.js';
import { loadsInFlight } from './progress.js';
import type { RelationsTable } from './relations-table.js';
import type { Selection } from './selection.js';

/** The fields of a stream event the page reads (the event is relations/changes' own). */
export interface LiveChange {
  readonly seq: number;
  readonly call: string;
  readonly rel_id: number;
  readonly profile_a: string;
  readonly profile_b: string;
  /** The relation's values after the change; null when it no longer exists. */
  readonly after: Readonly<Record<string, unknown>> | null;
}

export type LiveState = 'connecting' | 'live' | 'reconnecting' | 'lost' | 'off';

interface Pair {
  readonly a: string;
  readonly b: string;
}

/** A pair and the last change seen of it. */
interface PendingPair extends Pair {
  readonly after: LiveChange['after'];
}

export interface LiveHooks {
  /** Whether the change touches what the page shows now. */
  isShown(change: LiveChange): boolean;
  /**
   * Whether the page shows this pair as it is after the change already (the page's own write,
   * refreshed by the form): then nothing is read again.
   */
  showsAlready(pair: PendingPair): boolean;
  /** Loads in flight: the check above waits for them. */
  busy(): boolean;
  /** Reads the views of these pairs again; 'all' after changes may have been missed. */
  refresh(pairs: readonly Pair[] | 'all'): Promise<void>;
  /** The stream was refused: whether because the feed is off (else it is retried). */
  feedIsOff(): Promise<boolean>;
}

const STATE_TEXT: Record<LiveState, string> = {
  connecting: 'Live: connecting…',
  live: '● Live',
  reconnecting: 'Live: connection lost, reconnecting…',
  lost: 'Live updates lost; retrying…',
  off: 'Live updates off (the server’s change feed is off: TIES_FEED=off)',
};

const STATE_TITLE: Record<LiveState, string> = {
  connecting: 'Connecting to the change stream',
  live: 'Changes made by other clients appear here as they happen',
  reconnecting: 'The change stream was cut; changes made meanwhile arrive once it is back',
  lost: 'The server refused the change stream; the page retries and then reads the views again',
  off: 'Start Ties with TIES_FEED=on to see other clients’ changes live',
};

/** Changes arriving within this window are refreshed together. */
const DEBOUNCE_MS = 250;
/** Wait before a new stream after the server refused one. */
const RETRY_MS = 5_000;
/** More pairs than this in one window: the open profile is drawn afresh instead of pair by pair. */
const MAX_PAIRS = 5;

declare global {
  interface Window {
    /** For the browser tests: the stream's state and what it did. */
    tiesLive?: {
      readonly state: LiveState;
      /** Events received since sign-in. */
      readonly received: number;
      /** Those that touched what the page showed. */
      readonly relevant: number;
      /** Refreshes made because of them (changes arriving together share one). */
      readonly refreshes: number;
      /** Changes the page showed already when their refresh was due (its own writes). */
      readonly skipped: number;
    };
  }
}

export class LiveUpdates {
  private source: EventSource | undefined;
  private token: string | undefined;
  /** The last event seen: a stream we open again continues after it. */
  private lastSeq: number | undefined;
  private readonly pending = new Map<string, PendingPair>();
  private missed = false;
  private debounce: ReturnType<typeof setTimeout> | undefined;
  private retry: ReturnType<typeof setTimeout> | undefined;
  private refreshing: Promise<void> | undefined;
  private current: LiveState = 'connecting';
  private received = 0;
  private relevant = 0;
  private refreshes = 0;
  private skipped = 0;

  constructor(
    private readonly indicator: HTMLElement,
    private readonly hooks: LiveHooks,
  ) {
    const self = this;
    window.tiesLive = {
      get state() {
        return self.current;
      },
      get received() {
        return self.received;
      },
      get relevant() {
        return self.relevant;
      },
      get refreshes() {
        return self.refreshes;
      },
      get skipped() {
        return self.skipped;
      },
    };
  }

  /** Signed in: follow the stream from its head. */
  start(token: string): void {
    this.stop();
    this.token = token;
    this.lastSeq = undefined;
    this.connect();
  }

  /** Signed out: close the stream and hide the indicator. */
  stop(): void {
    this.source?.close();
    this.source = undefined;
    this.token = undefined;
    clearTimeout(this.debounce);
    clearTimeout(this.retry);
    this.pending.clear();
    this.missed = false;
    this.indicator.hidden = true;
  }

  private connect(): void {
    if (this.token === undefined) return;
    const url = new URL('api/v1.1/relations/changes/stream', new URL('.', document.baseURI));
    url.searchParams.set('token', this.token);
    url.searchParams.set('after', this.lastSeq === undefined ? 'latest' : String(this.lastSeq));
    this.show('connecting');
    const source = new EventSource(url);
    this.source = source;
    source.onopen = () => {
      this.show('live');
      // A stream opened again at the head may have missed changes while there was none.
      if (this.missed) this.schedule();
    };
    source.onmessage = (message: MessageEvent<string>) => this.receive(message.data);
    source.onerror = () => {
      if (this.source !== source) return;
      if (source.readyState === EventSource.CONNECTING) {
        // EventSource reconnects by itself and sends Last-Event-ID: nothing is missed.
        this.show('reconnecting');
        return;
      }
      // Closed: the server answered something other than a stream (the feed off, a server error).
      source.close();
      this.source = undefined;
      this.show('lost');
      this.hooks.feedIsOff().then(
        (off) => (off ? this.show('off') : this.reconnectLater()),
        () => this.reconnectLater(),
      );
    };
  }

  private reconnectLater(): void {
    if (this.token === undefined) return;
    this.missed = this.lastSeq === undefined;
    clearTimeout(this.retry);
    this.retry = setTimeout(() => this.connect(), RETRY_MS);
  }

  private receive(data: string): void {
    let change: LiveChange;
    try {
      change = JSON.parse(data) as LiveChange;
    } catch {
      return;
    }
    this.received++;
    this.lastSeq = change.seq;
    if (!this.hooks.isShown(change)) return;
    this.relevant++;
    this.pending.set(`${change.profile_a} ${change.profile_b}`, {
      a: change.profile_a,
      b: change.profile_b,
      after: change.after,
    });
    this.schedule();
  }

  private schedule(): void {
    clearTimeout(this.debounce);
    this.debounce = setTimeout(() => void this.flush(), DEBOUNCE_MS);
  }

  /** One refresh at a time: changes arriving during one are refreshed after it. */
  private async flush(): Promise<void> {
    if (this.refreshing) {
      await this.refreshing;
      this.schedule();
      return;
    }
    // A load in flight (the form refreshing after the page's own write) may show the change: look after it.
    if (this.hooks.busy()) {
      this.schedule();
      return;
    }
    const all = this.missed;
    const pairs: Pair[] = [];
    for (const pair of this.pending.values()) {
      if (!all && this.hooks.showsAlready(pair)) this.skipped++;
      else pairs.push(pair);
    }
    this.pending.clear();
    this.missed = false;
    if (!all && pairs.length === 0) return;
    this.refreshes++;
    this.refreshing = this.hooks
      .refresh(all ? 'all' : pairs)
      .catch(() => undefined)
      .finally(() => {
        this.refreshing = undefined;
      });
    await this.refreshing;
  }

  private show(next: LiveState): void {
    this.current = next;
    this.indicator.hidden = false;
    this.indicator.dataset.state = next;
    this.indicator.textContent = STATE_TEXT[next];
    this.indicator.title = STATE_TITLE[next];
  }
}

/** Two relations' values are the same (keys in any order). */
function sameValues(x: Readonly<Record<string, unknown>>, y: Readonly<Record<string, unknown>>): boolean {
  const keys = Object.keys(x);
  return keys.length === Object.keys(y).length && keys.every((k) => Object.is(x[k], y[k]));
}

/** The Explorer's live updates, wired to its one selection and the table it reads. */
export function initLiveUpdates(selection: Selection, table: RelationsTable): LiveUpdates {
  // The focal profile and those expanded in the graph are the ones whose relations the page shows
  // (a neighbour drawn but not expanded shows only its relation to the profile that drew it).
  const shows = (id: string): boolean => state.focal?.id === id || (selection.graph?.isExpanded(id) ?? false);
  return new LiveUpdates(byId('live-status'), {
    showsAlready({ a, b, after }) {
      const row = table.currentOf(a, b);
      const edge = selection.graph?.cy.getElementById(`${b}->${a}`).nonempty() ?? false;
      if (after === null) return row === undefined && !edge;
      return edge && row !== undefined && sameValues(row, after);
    },
    busy: () => loadsInFlight() > 0,
    isShown: (change) =>
      state.focal !== undefined &&
      change.rel_id === selectedType()?.rel_id &&
      (shows(change.profile_a) || shows(change.profile_b)),
    async refresh(pairs) {
      const focal = state.focal;
      if (!focal) return;
      if (pairs === 'all' || pairs.length > MAX_PAIRS) {
        await selection.open(focal, true);
        return;
      }
      for (const { a, b } of pairs) await selection.afterChange(a, b);
    },
    async feedIsOff() {
      try {
        await callApi().relations.changes({ after: 'latest' });
        return false;
      } catch (err) {
        return err instanceof TiesApiError && err.code === 409;
      }
    },
  });
}
