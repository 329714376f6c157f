// The paged table of a profile's relations — the same rows as the graph, in either direction; the
// keyboard's way to open a neighbour. On a hub of 100,000 it is how a user reads everything: sorted
// by any property (a header button, aria-sort), filtered (profile id prefix, a range of the sorted
// number), paged by offset with a jump to any page (relations/get sort/order/offset/id_prefix/min/max).
import type {
  GetAnswer,
  ProfileRef,
  Property,
  PropValue,
  RelationRow,
  RelationType,
  TiesClient,
} from './api.js';
import { clear, formatValue, h, say, shortId } from './dom-helpers.js';
import { FilterControls, PagerControls, type TableFilter } from './table-controls.js';

export type Direction = 'incoming' | 'outgoing';

export interface TableOptions {
  readonly api: () => TiesClient;
  readonly labelOf: (id: string) => string;
  /** Open (select) a neighbour, as clicking its node does. */
  readonly onOpen: (profile: ProfileRef) => void;
  /** Fill the change form with this relation. */
  readonly onChange: (row: RelationRow) => void;
  /** Rows arrived: their profiles may need labels. */
  readonly onRows: (profiles: readonly ProfileRef[]) => void;
  /** Names the databases in the note that says why a direction does not apply. */
  readonly dbName: (id: number) => string;
}

const PAGE_SIZES = [5, 10, 25, 100] as const;

/** The table's order: by a property, or (undefined) by the other profile's id. */
interface SortOrder {
  readonly property: string;
  readonly descending: boolean;
}

export class RelationsTable {
  private type: RelationType | undefined;
  private profile: ProfileRef | undefined;
  private direction: Direction = 'incoming';
  private pageSize = 10;
  /** The page shown, from 0 (offset = page × pageSize). */
  private page = 0;
  private sort: SortOrder | undefined;
  private filter: TableFilter = {};
  private answer: GetAnswer | undefined;
  /** Whether rows offer "Change…" (the token has the write right). */
  canChange = true;
  private readonly directionNote = h('p', { class: 'muted small', id: 'direction-note' });

  private readonly directionInputs: Record<Direction, HTMLInputElement>;
  private readonly sizeSelect: HTMLSelectElement;
  private readonly table = h('table', { class: 'relations', id: 'relations-table' });
  private readonly pager = new PagerControls((page) => this.goTo(page));
  private readonly status = this.pager.status;
  private readonly filterControls = new FilterControls((filter) => {
    this.filter = filter;
    this.goTo(0);
  });

  constructor(
    root: HTMLElement,
    private readonly options: TableOptions,
  ) {
    const radio = (value: Direction, text: string) => {
      const input = h('input', { type: 'radio', name: 'direction', value, id: `direction-${value}` });
      input.addEventListener('change', () => {
        if (input.checked) this.setDirection(value);
      });
      return { input, label: h('label', { for: input.id, class: 'inline' }, input, ` ${text}`) };
    };
    const incoming = radio('incoming', 'Incoming (profile is A)');
    const outgoing = radio('outgoing', 'Outgoing (profile is B)');
    this.directionInputs = { incoming: incoming.input, outgoing: outgoing.input };
    this.sizeSelect = h(
      'select',
      { id: 'page-size' },
      ...PAGE_SIZES.map((n) => h('option', { value: n, selected: n === this.pageSize }, String(n))),
    );
    this.sizeSelect.addEventListener('change', () => {
      this.pageSize = Number(this.sizeSelect.value);
      this.goTo(0);
    });
    root.append(
      h(
        'div',
        { class: 'toolbar' },
        h(
          'fieldset',
          { class: 'inline-group' },
          h('legend', {}, 'Direction'),
          incoming.label,
          outgoing.label,
          this.directionNote,
        ),
        h(
          'div',
          { class: 'field inline-field' },
          h('label', { for: this.sizeSelect.id }, 'Rows per page'),
          this.sizeSelect,
        ),
      ),
      this.filterControls.root,
      // Focusable and named: on a phone the table scrolls sideways to its Change… column, and a
      // keyboard scrolls a region only once it has focus.
      h('p', { class: 'scroll-cue', 'aria-hidden': 'true' }, 'Scroll the table sideways for every column →'),
      h(
        'div',
        {
          class: 'table-scroll',
          tabindex: 0,
          role: 'region',
          'aria-label': 'Relations table, scrolls sideways',
        },
        this.table,
      ),
      this.pager.root,
    );
    this.render();
  }

  /** Shows a profile's relations from the first page; the direction it can have (A and/or B). */
  show(type: RelationType, profile: ProfileRef, direction?: Direction): Promise<void> {
    this.type = type;
    this.profile = profile;
    const canIn = profile.db === type.db_a;
    const canOut = profile.db === type.db_b;
    this.directionInputs.incoming.disabled = !canIn;
    this.directionInputs.outgoing.disabled = !canOut;
    this.direction =
      direction && (direction === 'incoming' ? canIn : canOut) ? direction : canIn ? 'incoming' : 'outgoing';
    this.directionInputs[this.direction].checked = true;
    // A greyed choice says why: the direction depends on the database the profile lives in.
    const { dbName } = this.options;
    this.directionNote.textContent = !canOut
      ? `Outgoing does not apply: initiators (B) are in ${dbName(type.db_b)}, this profile is in ${dbName(profile.db)}.`
      : !canIn
        ? `Incoming does not apply: recipients (A) are in ${dbName(type.db_a)}, this profile is in ${dbName(profile.db)}.`
        : '';
    this.page = 0;
    this.resetOrder();
    return this.load();
  }

  /** No profile: nothing of the previous one stays on screen (a new type, a failed search). */
  clear(type?: RelationType): void {
    this.type = type;
    this.profile = undefined;
    this.answer = undefined;
    this.page = 0;
    this.resetOrder();
    this.directionNote.textContent = '';
    say(this.status, '');
    this.render();
  }

  /** A relation's values when it is on the page shown (the change form's "current"). */
  currentOf(profileA: string, profileB: string): Readonly<Record<string, PropValue>> | undefined {
    const row = this.answer?.data.find((r) => r.profile_id_a === profileA && r.profile_id_b === profileB);
    return row ? Object.fromEntries(Object.entries(row.props).map(([k, v]) => [k, v.value])) : undefined;
  }

  /** Reloads the page shown (after a change). */
  refresh(): Promise<void> {
    return this.load();
  }

  private setDirection(direction: Direction): void {
    this.direction = direction;
    this.goTo(0);
  }

  /** A new profile or type: id order, no filter (what applied to the last one may not exist here). */
  private resetOrder(): void {
    this.sort = undefined;
    this.filter = {};
    this.filterControls.reset();
    this.filterControls.setRangeProperty(undefined);
  }

  private goTo(page: number): void {
    this.page = Math.max(0, page);
    void this.load();
  }

  /**
   * A header's button: the first click on a number sorts it strongest first (a string or bool A to Z),
   * the next click reverses; the profile column goes back to id order.
   */
  private sortBy(property: Property | undefined): void {
    if (!property) this.sort = undefined;
    else if (this.sort?.property === property.name)
      this.sort = { property: property.name, descending: !this.sort.descending };
    else
      this.sort = {
        property: property.name,
        descending: property.type === 'int' || property.type === 'float',
      };
    // A range belongs to the property it was typed for.
    const sorted = this.type?.properties.find((p) => p.name === this.sort?.property);
    this.filterControls.setRangeProperty(sorted);
    if (this.filter.min !== undefined || this.filter.max !== undefined) {
      this.filter = this.filter.idPrefix ? { idPrefix: this.filter.idPrefix } : {};
    }
    this.goTo(0);
  }

  private async load(): Promise<void> {
    const { type, profile, sort, filter } = this;
    if (!type || !profile) return;
    say(this.status, 'Loading…');
    try {
      this.answer = await this.options.api().relations.get({
        rel_id: type.rel_id,
        profile_id: profile.id,
        limit: this.pageSize,
        // Always given, so that the answer pages by offset (next_offset) in id order too.
        offset: this.page * this.pageSize,
        ...(sort
          ? { sort: sort.property, order: sort.descending ? ('desc' as const) : ('asc' as const) }
          : {}),
        ...(filter.idPrefix ? { id_prefix: filter.idPrefix } : {}),
        ...(filter.min !== undefined ? { min: filter.min } : {}),
        ...(filter.max !== undefined ? { max: filter.max } : {}),
        ...(this.direction === 'outgoing' ? { side: 'b' as const } : {}),
      });
    } catch (err) {
      this.answer = undefined;
      this.render();
      say(this.status, err instanceof Error ? err.message : String(err), 'error');
      return;
    }
    this.options.onRows(this.answer.data.map((r) => this.neighbour(r)));
    this.render();
  }

  private neighbour(row: RelationRow): ProfileRef {
    return this.direction === 'incoming'
      ? { id: row.profile_id_b, db: row.db_b ?? this.type!.db_b }
      : { id: row.profile_id_a, db: row.db_a ?? this.type!.db_a };
  }

  /** Draws the current page again (labels may have arrived). */
  render(): void {
    const props = this.type?.properties ?? [];
    const other = this.direction === 'incoming' ? 'Profile B (initiator)' : 'Profile A (recipient)';
    clear(this.table);
    this.table.append(
      h(
        'caption',
        { class: 'visually-hidden' },
        this.profile
          ? `${this.direction} relations of ${this.options.labelOf(this.profile.id)}`
          : 'No profile',
      ),
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          this.header(other, undefined, ''),
          ...props.map((p) => this.header(p.name, p, p.type === 'string' || p.type === 'bool' ? '' : 'num')),
          h('th', { scope: 'col' }, h('span', { class: 'visually-hidden' }, 'Actions')),
        ),
      ),
    );
    const body = h('tbody');
    const rows = this.answer?.data ?? [];
    for (const row of rows) {
      const n = this.neighbour(row);
      body.append(
        h(
          'tr',
          { 'data-profile': n.id },
          h(
            'td',
            {},
            h(
              'button',
              { type: 'button', class: 'link', title: `Open ${n.id}`, onclick: () => this.options.onOpen(n) },
              this.options.labelOf(n.id),
            ),
            h('span', { class: 'mono small' }, ` ${shortId(n.id)}`),
          ),
          ...props.map((p) =>
            h(
              'td',
              { class: p.type === 'string' || p.type === 'bool' ? '' : 'num', 'data-prop': p.name },
              formatValue(row.props[p.name]?.value),
            ),
          ),
          h(
            'td',
            {},
            this.canChange &&
              h(
                'button',
                {
                  type: 'button',
                  class: 'small-button',
                  'aria-label': `Change the relation with ${this.options.labelOf(n.id)}`,
                  onclick: () => this.options.onChange(row),
                },
                'Change…',
              ),
          ),
        ),
      );
    }
    if (rows.length === 0) {
      body.append(
        h(
          'tr',
          {},
          h(
            'td',
            { colspan: props.length + 2, class: 'empty' },
            this.profile ? 'No relations in this direction.' : 'Find a profile to list its relations.',
          ),
        ),
      );
    }
    this.table.append(body);
    const answer = this.answer;
    if (answer) {
      const first = this.page * this.pageSize + 1;
      const filtered = answer.filtered_count !== undefined;
      const count = answer.filtered_count ?? answer.total_count;
      const of = filtered ? `${count} matching (${answer.total_count} in all)` : String(count);
      say(this.status, rows.length ? `Rows ${first}–${first + rows.length - 1} of ${of}` : `0 of ${of}`);
      this.pager.set(this.page, Math.ceil(count / this.pageSize), answer.next_offset !== undefined);
    } else this.pager.set(0, 1, false);
  }

  /** A column header whose button sorts by it; aria-sort says the order shown. */
  private header(text: string, property: Property | undefined, cls: string): HTMLTableCellElement {
    const sorted = property ? this.sort?.property === property.name : this.sort === undefined;
    const descending = sorted && this.sort?.descending === true;
    const th = h('th', { scope: 'col', class: cls });
    if (sorted) th.setAttribute('aria-sort', descending ? 'descending' : 'ascending');
    const arrow = sorted ? (descending ? ' ▼' : ' ▲') : '';
    const button = h(
      'button',
      {
        type: 'button',
        class: 'sort-button',
        'data-sort': property?.name ?? '',
        title: property ? `Sort by ${property.name}` : 'Sort by profile id',
        onclick: () => this.sortBy(property),
      },
      text,
      h('span', { 'aria-hidden': 'true' }, arrow),
    );
    th.append(button);
    return th;
  }
}
