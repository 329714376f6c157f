// Names for profiles the page shows by id: fetched in the background, a few requests at a time,
// and announced once a batch has arrived so that every view showing ids redraws them.
import type { Profile, ProfileRef, TiesClient } from './api.js';
import { shortId } from './dom-helpers.js';

const CONCURRENCY = 4;

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
    const done: string[] = [];
    for (let p = this.queue.shift(); p; p = this.queue.shift()) {
      try {
        const found = await this.api().profiles.get({ db_id: p.db, profile_id: p.id });
        this.known.set(p.id, profileLabel(found.data));
      } catch {
        this.known.set(p.id, shortId(p.id));
      }
      done.push(p.id);
    }
    if (done.length) this.onLabels(done);
  }
}
