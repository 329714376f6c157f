// Which of a profile's relations the graph draws: on a hub of 100,000 not all of them, but the
// strongest N by the property edges are as wide as (relations/get with sort, order desc), with
// "N of M" in the status and a "Show more" button that loads the next N (offset). Without a numeric
// property, the first N by id. Each direction (incoming, outgoing) is paged on its own.
import type { ProfileRef, RelationType } from './api.js';
import { h, say } from './dom-helpers.js';
import { callApi, state } from './explorer-state.js';
import type { GraphView } from './graph-view.js';
import type { Labels } from './labels.js';

/** Relations drawn per direction when a profile is opened, and added by each "Show more". */
export const GRAPH_FIRST = 40;
export const GRAPH_STEP = 40;

type Side = 'a' | 'b';

interface Loaded {
  readonly type: RelationType;
  readonly profile: ProfileRef;
  readonly rank: string | undefined;
  /** Per direction the profile has: rows drawn so far and the direction's total. */
  readonly sides: Map<Side, { shown: number; total: number }>;
}

export class GraphNeighbours {
  /** The last profile expanded (the one "Show more" extends). */
  private loaded: Loaded | undefined;
  readonly moreButton = h('button', {
    type: 'button',
    id: 'graph-more',
    class: 'small-button',
    hidden: true,
  });

  constructor(
    private readonly graph: () => GraphView,
    private readonly labels: Labels,
    private readonly status: HTMLElement,
  ) {}

  /** Loads the first N of each direction a profile has (as A when in db_a, as B when in db_b). */
  async expand(type: RelationType, profile: ProfileRef): Promise<void> {
    const sides = (['a', 'b'] as const).filter((s) => profile.db === (s === 'a' ? type.db_a : type.db_b));
    const loaded: Loaded = { type, profile, rank: this.rankOf(type), sides: new Map() };
    // Another profile reloaded after a change does not take "Show more" from the selected one.
    const focal = state.focal?.id === profile.id;
    if (focal) this.loaded = loaded;
    await Promise.all(sides.map((side) => this.load(loaded, side, 0, GRAPH_FIRST)));
    this.graph().markExpanded(profile.id);
    if (focal) this.report(loaded);
  }

  /** Draws the next N of every direction of the last expanded profile that has more. */
  async more(): Promise<void> {
    const loaded = this.loaded;
    if (!loaded) return;
    await Promise.all(
      [...loaded.sides].map(([side, { shown, total }]) =>
        shown < total ? this.load(loaded, side, shown, GRAPH_STEP) : undefined,
      ),
    );
    this.report(loaded);
  }

  /** Nothing to extend (a new type, a new search). */
  reset(): void {
    this.loaded = undefined;
    this.moreButton.hidden = true;
  }

  /** The rank property, when the type still has it as a number. */
  private rankOf(type: RelationType): string | undefined {
    const name = this.graph().rankProperty;
    const p = type.properties.find((q) => q.name === name);
    return p && (p.type === 'int' || p.type === 'float') ? p.name : undefined;
  }

  private async load(loaded: Loaded, side: Side, offset: number, limit: number): Promise<void> {
    const { type, profile, rank } = loaded;
    const answer = await callApi().relations.get({
      rel_id: type.rel_id,
      profile_id: profile.id,
      limit,
      ...(offset > 0 ? { offset } : {}),
      ...(rank ? { sort: rank, order: 'desc' as const } : {}),
      ...(side === 'b' ? { side } : {}),
    });
    const labelOf = (id: string) => this.labels.of(id);
    this.graph().addRelations(profile, side, answer.data, labelOf);
    loaded.sides.set(side, { shown: offset + answer.data.length, total: answer.total_count });
    this.labels.request(
      answer.data.map((r) =>
        side === 'a'
          ? { id: r.profile_id_b, db: r.db_b ?? type.db_b }
          : { id: r.profile_id_a, db: r.db_a ?? type.db_a },
      ),
    );
  }

  /** "Anna: 40 of 100000 incoming (strongest by donate), 3 outgoing." and the button's state. */
  private report(loaded: Loaded): void {
    const parts = [...loaded.sides].map(([side, { shown, total }]) => {
      const count = shown < total ? `${shown} of ${total}` : String(total);
      return `${count} ${side === 'a' ? 'incoming' : 'outgoing'}`;
    });
    const partial = [...loaded.sides.values()].some((s) => s.shown < s.total);
    const how = partial ? (loaded.rank ? ` (strongest by ${loaded.rank})` : ' (first by id)') : '';
    say(
      this.status,
      `${this.labels.of(loaded.profile.id)}: ${parts.join(', ')}${how}. Click a profile to expand it.`,
    );
    const left = Math.max(
      ...[...loaded.sides.values()].map((s) => Math.min(GRAPH_STEP, s.total - s.shown)),
      0,
    );
    this.moreButton.hidden = left <= 0;
    this.moreButton.textContent = `Show ${left} more`;
  }
}
