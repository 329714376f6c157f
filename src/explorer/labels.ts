// Names for profiles the page shows by id: fetched in the background with profiles/get_batch (up to
// 500 ids a request, the display fields only), and announced per batch so the views redraw them.
import type { Profile, ProfileRef, TiesClient } from './api.js';
import { shortId } from './dom-helpers.js';

/** Ids per profiles/get_batch (its maximum is 1000): a hub's first screen of names is one request. */
const BATCH = 500;
/** Requests in flight at most. */
const CONCURRENCY = 2;
/** The fields a label is made of. */
const LABEL_FIELDS = ['_fname', '_lname', 'email'];

/** A person's name, else the email, else a short id. */
export function profileLabel(p: Profile): string {
  const name = [p._fname, p._lname].filter((x) => typeof x === 'string' && x).join(' ');
  return name || (typeof p.email === 'string' && p.email) || shortId(p.id);
}

export class Labels {
  private readonly known = new Map<string, string>();
  private readonly queue: ProfileRef[] = [];
  private workers = 0;

  constructor(
    private readonly api: () => TiesClient,
    /** Labels arrived: redraw what shows them (`ids`: whose). */
    private readonly onLabels: (ids: readonly string[]) => void,
  ) {}

  /** Loads in flight (for the page's "settled" signal). */
  get busy(): number {
    return this.workers;
  }

  of(id: string): string {
    return this.known.get(id) ?? shortId(id);
  }

  set(id: string, label: string): void {
    this.known.set(id, label);
  }

  /** Asks for the names of these profiles; those known or already asked for are skipped. */
  request(profiles: readonly ProfileRef[]): void {
    for (const p of profiles) {
      if (this.known.has(p.id) || this.queue.some((q) => q.id === p.id)) continue;
      this.queue.push(p);
    }
    while (this.workers < CONCURRENCY && this.queue.length) {
      this.workers++;
      void this.work().finally(() => this.workers--);
    }
  }

  private async work(): Promise<void> {
    while (this.queue.length) {
      // One database per request: take the first queued profile's database and its next ids.
      const db = this.queue[0]!.db;
      const ids: string[] = [];
      for (let i = 0; i < this.queue.length && ids.length < BATCH; ) {
        if (this.queue[i]!.db === db) ids.push(this.queue.splice(i, 1)[0]!.id);
        else i++;
      }
      try {
        const answer = await this.api().profiles.getBatch({
          db_id: db,
          profile_ids: ids,
          fields: LABEL_FIELDS,
        });
        for (const entry of answer.data)
          this.known.set(
            entry.profile_id,
            entry.profile ? profileLabel(entry.profile as Profile) : shortId(entry.profile_id),
          );
      } catch {
        for (const id of ids) this.known.set(id, shortId(id));
      }
      this.onLabels(ids);
    }
  }
}
