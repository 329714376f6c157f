// Which of a profile's relations the graph draws: on a hub of 100,000 not all of them, but the
// strongest N by the rank property (the one edges are as wide as; relations/get with sort, order
// desc), with "N of M" in the status and a "Show more" button that loads the next N (offset).
// Without a numeric property, the first N by id. Each direction (incoming, outgoing) is paged on its
// own. Answers are read first and drawn in one step, so that a reload after a change keeps the old
// drawing on screen until the new one is there (no frame without the edges), and a reload draws as
// many relations as the user had asked for with "Show more".
import type { ProfileRef, RelationRow, RelationType } from './api.js';
import { h, say } from './dom-helpers.js';
import { callApi, state } from './explorer-state.js';
import type { GraphView } from './graph-view.js';
import type { Labels } from './labels.js';

/** Relations drawn per direction when a profile is opened, and added by each "Show more". */
export const GRAPH_FIRST = 40;
export const GRAPH_STEP = 40;
/** relations/get's largest page: a reload of a profile shown this far asks for no more. */
const MAX_LIMIT = 10_000;

type Side = 'a' | 'b';

/**
 * The numeric properties the strongest can be chosen by, in the order a new drawing tries them:
 * those the type keeps a top of (its author asked get_counter to rank by them) first, then the
 * others, each in the type's order. The first is what "Strongest by" shows before a profile is open.
 */
export function rankCandidates(type: RelationType): string[] {
  const numeric = type.properties.filter((p) => p.type === 'int' || p.type === 'float');
  return [...numeric.filter((p) => p.top > 0), ...numeric.filter((p) => !(p.top > 0))].map((p) => p.name);
}

interface Loaded {
  readonly type: RelationType;
  readonly profile: ProfileRef;
  readonly rank: string | undefined;
  /** Per direction the profile has: rows drawn so far and the direction's total. */
  readonly sides: Map<Side, { shown: number; total: number }>;
}

/** A profile's relations read and not drawn yet. */
export interface Fetched {
  readonly loaded: Loaded;
  readonly answers: readonly { side: Side; offset: number; rows: readonly RelationRow[]; total: number }[];
}

export class GraphNeighbours {
  /** The focal profile's relations (the ones "Show more" extends). */
  private loaded: Loaded | undefined;
  /** Every profile drawn with its relations, by id: how many of them a reload draws again. */
  private readonly drawn = new Map<string, Loaded>();
  /** The rank property, and whether the user chose it (else each new drawing picks one). */
  private rank: string | undefined;
  private rankChosen = false;
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
    /** A new drawing ranks by another property than the one shown (it has values for this profile). */
    private readonly onRank: (name: string) => void,
  ) {}

  /** The property the strongest are chosen by; `chosen` when the user picked it. */
  setRank(name: string | undefined, chosen: boolean): void {
    this.rank = name;
    this.rankChosen = chosen;
    this.graph().setWidthProperty(name);
  }

  /**
   * Reads the relations of each direction a profile has (as A when in db_a, as B when in db_b):
   * the first N, or as many as were drawn of it before. The first profile of a drawing, when the
   * user did not choose the rank, is ranked by the first candidate its relations have values of.
   */
  async fetch(type: RelationType, profile: ProfileRef): Promise<Fetched> {
    const before = this.drawn.get(profile.id);
    const limit = (side: Side) =>
      Math.min(MAX_LIMIT, Math.max(GRAPH_FIRST, before?.sides.get(side)?.shown ?? 0));
    const read = async (rank: string | undefined): Promise<Fetched> => {
      const loaded: Loaded = { type, profile, rank, sides: new Map() };
      const sides = (['a', 'b'] as const).filter((s) => profile.db === (s === 'a' ? type.db_a : type.db_b));
      const answers = await Promise.all(sides.map((side) => this.read(loaded, side, 0, limit(side))));
      return { loaded, answers };
    };
    if (this.rankChosen || this.drawn.size > 0) return read(this.rankOf(type));
    const candidates = rankCandidates(type);
    let first: Fetched | undefined;
    for (const rank of candidates) {
      const fetched = await read(rank);
      first ??= fetched;
      // Rows without the property come last: none has it when the first of each direction lacks it.
      if (fetched.answers.some((a) => a.rows[0]?.props[rank] !== undefined)) return fetched;
    }
    return first ?? read(undefined);
  }

  /**
   * Draws what fetch read, in one step; `replace`: the profile's relations drawn before go first
   * (a reload after a change).
   */
  apply({ loaded, answers }: Fetched, replace = false): void {
    const g = this.graph();
    const { profile, rank } = loaded;
    if (replace) g.dropEdgesOf(profile.id);
    if (rank !== this.rank) {
      this.rank = rank;
      g.setWidthProperty(rank);
      if (rank) this.onRank(rank);
    }
    for (const answer of answers) this.draw(loaded, answer);
    g.markExpanded(profile.id);
    this.drawn.set(profile.id, loaded);
    // Another profile reloaded after a change does not take "Show more" from the selected one.
    if (state.focal?.id === profile.id) this.select(profile.id);
  }

  /** Reads and draws a profile's relations. */
  async expand(type: RelationType, profile: ProfileRef): Promise<void> {
    this.apply(await this.fetch(type, profile));
  }

  /** The selected profile is one drawn with its relations: "Show more" and the status are its. */
  select(id: string): void {
    const loaded = this.drawn.get(id);
    if (!loaded) return;
    this.loaded = loaded;
    this.report(loaded);
  }

  /** Draws the next N of every direction of the selected profile that has more. */
  async more(): Promise<void> {
    const loaded = this.loaded;
    if (!loaded) return;
    const answers = await Promise.all(
      [...loaded.sides]
        .filter(([, { shown, total }]) => shown < total)
        .map(([side, { shown }]) => this.read(loaded, side, shown, GRAPH_STEP)),
    );
    for (const answer of answers) this.draw(loaded, answer);
    this.report(loaded);
  }

  /** Nothing drawn any more (a new type, a new search). */
  reset(): void {
    this.loaded = undefined;
    this.drawn.clear();
    this.moreButton.hidden = true;
  }

  /** The rank property, when the type still has it as a number. */
  private rankOf(type: RelationType): string | undefined {
    const p = type.properties.find((q) => q.name === this.rank);
    return p && (p.type === 'int' || p.type === 'float') ? p.name : undefined;
  }

  private async read(loaded: Loaded, side: Side, offset: number, limit: number) {
    const { type, profile, rank } = loaded;
    const answer = await callApi().relations.get({
      rel_id: type.rel_id,
      profile_id: profile.id,
      limit,
      ...(offset > 0 ? { offset } : {}),
      ...(rank ? { sort: rank, order: 'desc' as const } : {}),
      ...(side === 'b' ? { side } : {}),
    });
    return { side, offset, rows: answer.data, total: answer.total_count };
  }

  private draw(loaded: Loaded, { side, offset, rows, total }: Fetched['answers'][number]): void {
    const { type, profile } = loaded;
    this.graph().addRelations(profile, side, rows, (id) => this.labels.of(id));
    loaded.sides.set(side, { shown: offset + rows.length, total });
    this.labels.request(
      rows.map((r) =>
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
