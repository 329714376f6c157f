// Aggregate changes waiting to be written (see AggregateLedger), merged per profile: one entry per
// (relation type, A) holding A's total, its per-property counts and int sums and its top-entry
// changes, one count per (type, B). Nested maps keyed by the type object and the profile id, so
// that recording a change builds no key string: building, hashing and sorting one string key per
// changed row took ~20% of a bulk load's CPU (a profile of `ties import`, docs/benchmarks.md).
import type { RelationType } from '../../core/model.js';

/** A change to one of A's per-property rows: a count, and an int sum when the property keeps one. */
export interface PropChange {
  count: number;
  sum: bigint | null;
}

/** A top entry of A to insert (+1) or delete (−1); entries are merged (their changes added) on use. */
export interface TopChange {
  readonly prop: string;
  readonly value: bigint | number;
  readonly b: string;
  change: number;
}

/** Everything pending for one profile A of one type. */
export class PendingA {
  /** A's total changed, even to a net 0: its row is read, and its top rows kept or dropped. */
  totalTouched = false;
  total = 0;
  /** By the property's index in `type.properties`; unset where nothing changed. */
  readonly props: (PropChange | undefined)[] = [];
  /** Unmerged, in the order the writes made them; merged only if A keeps top rows. */
  tops: TopChange[] | undefined;

  constructor(
    readonly type: RelationType,
    readonly a: string,
  ) {}
}

/** B's count change, with what names its row. */
export interface PendingB {
  readonly type: RelationType;
  readonly b: string;
  readonly count: number;
}

const byRelId = (x: RelationType, y: RelationType) => x.relId - y.relId;

/** Profile ids are lower-case hex of the stored blob: their string order is the key order. */
function sortedIds<T>(map: Map<string, T>): string[] {
  return [...map.keys()].sort();
}

export class PendingAggregates {
  /**
   * Keyed by the type object itself: should the catalogue be reloaded inside a batch, a type's
   * new object gets entries of its own (adding to the same rows, still exact), and property
   * indices always refer to the properties of the object they were recorded with.
   */
  private readonly as = new Map<RelationType, Map<string, PendingA>>();
  private readonly bs = new Map<RelationType, Map<string, number>>();

  get empty(): boolean {
    return this.as.size === 0 && this.bs.size === 0;
  }

  clear(): void {
    this.as.clear();
    this.bs.clear();
  }

  private profileA(type: RelationType, a: string): PendingA {
    let byA = this.as.get(type);
    if (byA === undefined) {
      byA = new Map();
      this.as.set(type, byA);
    }
    let pending = byA.get(a);
    if (pending === undefined) {
      pending = new PendingA(type, a);
      byA.set(a, pending);
    }
    return pending;
  }

  addTotal(type: RelationType, a: string, count: number): void {
    const pending = this.profileA(type, a);
    pending.totalTouched = true;
    pending.total += count;
  }

  addProp(type: RelationType, a: string, index: number, count: number, sum: bigint | null): void {
    const props = this.profileA(type, a).props;
    const found = props[index];
    if (found === undefined) {
      props[index] = { count, sum };
    } else {
      found.count += count;
      if (sum !== null) found.sum = (found.sum ?? 0n) + sum;
    }
  }

  addTop(type: RelationType, a: string, top: TopChange): void {
    const pending = this.profileA(type, a);
    if (pending.tops === undefined) pending.tops = [top];
    else pending.tops.push(top);
  }

  addB(type: RelationType, b: string, count: number): void {
    let byB = this.bs.get(type);
    if (byB === undefined) {
      byB = new Map();
      this.bs.set(type, byB);
    }
    byB.set(b, (byB.get(b) ?? 0) + count);
  }

  /** Adds every change of `this` to `target` (a write's own changes, kept when it succeeds). */
  mergeInto(target: PendingAggregates): void {
    for (const byA of this.as.values()) {
      for (const p of byA.values()) {
        if (p.totalTouched) target.addTotal(p.type, p.a, p.total);
        p.props.forEach((c, i) => {
          if (c !== undefined) target.addProp(p.type, p.a, i, c.count, c.sum);
        });
        if (p.tops) for (const top of p.tops) target.addTop(p.type, p.a, top);
      }
    }
    for (const [type, byB] of this.bs) for (const [b, count] of byB) target.addB(type, b, count);
  }

  /** A's entries in key order: by type, then by profile A. */
  sortedAs(): PendingA[] {
    const out: PendingA[] = [];
    for (const type of [...this.as.keys()].sort(byRelId)) {
      const byA = this.as.get(type)!;
      for (const a of sortedIds(byA)) out.push(byA.get(a)!);
    }
    return out;
  }

  /** B's count changes in key order. */
  sortedBs(): PendingB[] {
    const out: PendingB[] = [];
    for (const type of [...this.bs.keys()].sort(byRelId)) {
      const byB = this.bs.get(type)!;
      for (const b of sortedIds(byB)) out.push({ type, b, count: byB.get(b)! });
    }
    return out;
  }
}

/** A's top changes merged per entry (insert then delete of one entry cancel out), in key order. */
export function mergedTops(tops: readonly TopChange[]): TopChange[] {
  const merged = new Map<string, TopChange>();
  for (const t of tops) {
    const key = `${t.prop}\0${String(t.value)}\0${t.b}`;
    const found = merged.get(key);
    if (found) found.change += t.change;
    else merged.set(key, { ...t });
  }
  return [...merged.keys()].sort().map((key) => merged.get(key)!);
}
