// Deep links (issue #17 item 9): the selected relation type, profile and its database live in the
// page's address, after `#` (rel_id=3&db_id=1&profile_id=…): a reload shows the same view, a link
// can be shared with someone holding a token, and Back / Forward move between selections. In the
// fragment rather than the query string, so that profile ids stay out of server and proxy logs.
import type { ProfileRef } from './api.js';
import { selectedType, state } from './explorer-state.js';
import type { Selection } from './selection.js';
import type { TypePicker } from './type-picker.js';

export interface Link {
  readonly relId?: number;
  readonly profile?: ProfileRef;
}

/** Profile ids are 24 hex digits in Altcraft, but Ties accepts any id up to 64 characters. */
const PROFILE_ID = /^[\w-]{1,64}$/;
const POSITIVE = /^[1-9]\d{0,9}$/;

/** The fragment for a selection ('' when nothing is selected). */
export function linkFragment(link: Link): string {
  const q = new URLSearchParams();
  if (link.relId !== undefined) q.set('rel_id', String(link.relId));
  if (link.profile) {
    q.set('db_id', String(link.profile.db));
    q.set('profile_id', link.profile.id);
  }
  const text = q.toString();
  return text ? `#${text}` : '';
}

/** What a fragment selects; anything malformed is left out (never an error page for a bad link). */
export function parseLink(fragment: string): Link {
  const q = new URLSearchParams(fragment.replace(/^#/, ''));
  const rel = q.get('rel_id') ?? '';
  const db = q.get('db_id') ?? '';
  const id = q.get('profile_id') ?? '';
  return {
    ...(POSITIVE.test(rel) ? { relId: Number(rel) } : {}),
    ...(POSITIVE.test(db) && PROFILE_ID.test(id) ? { profile: { id, db: Number(db) } } : {}),
  };
}

export class DeepLink {
  /** While the page follows a link, its own selection changes write no history. */
  private following = false;

  constructor(
    private readonly selection: Selection,
    private readonly types: TypePicker,
  ) {
    // Back / Forward (and a fragment edited by hand): show that selection.
    window.addEventListener('popstate', () => void this.follow());
  }

  /** The selection changed: a new history entry, so that Back returns to the previous one. */
  changed(): void {
    if (this.following || !state.api) return;
    const fragment = this.current();
    if (fragment !== location.hash)
      history.pushState(null, '', fragment || location.pathname + location.search);
  }

  /**
   * Shows what the address selects (after sign-in, Back, Forward); then the address says what is
   * shown. `prepare` runs first, writing no history (sign-in lists the types, selecting the first).
   */
  async follow(prepare?: () => void): Promise<void> {
    if (!state.api) return;
    const link = parseLink(location.hash);
    this.following = true;
    try {
      prepare?.();
      const type = link.relId === undefined ? undefined : state.types.find((t) => t.rel_id === link.relId);
      if (type && selectedType()?.rel_id !== type.rel_id) this.types.choose(type.rel_id);
      const profile = link.profile;
      const current = selectedType();
      // A profile is only followed into a database of the type shown (else the link is stale).
      if (profile && current && (profile.db === current.db_a || profile.db === current.db_b)) {
        if (state.focal?.id !== profile.id || state.focal.db !== profile.db)
          await this.selection.open(profile, true);
      } else if (state.focal) {
        this.selection.clear();
      }
    } finally {
      this.following = false;
    }
    const fragment = this.current();
    if (fragment !== location.hash)
      history.replaceState(null, '', fragment || location.pathname + location.search);
  }

  private current(): string {
    const type = selectedType();
    return linkFragment({
      ...(type ? { relId: type.rel_id } : {}),
      ...(state.focal ? { profile: state.focal } : {}),
    });
  }
}
