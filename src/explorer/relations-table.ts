// The paged table of a profile's relations — the same rows as the graph, page by page with
// limit / from / next_from, in either direction; the keyboard's way to open a neighbour.
import type { GetAnswer, ProfileRef, PropValue, RelationRow, RelationType, TiesClient } from './api.js';
import { clear, formatValue, h, say, shortId } from './dom-helpers.js';

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

export class RelationsTable {
  private type: RelationType | undefined;
  private profile: ProfileRef | undefined;
  private direction: Direction = 'incoming';
  private pageSize = 10;
  /** `from` of each page shown so far (undefined for the first): Previous pops it. */
  private froms: (string | undefined)[] = [undefined];
  private answer: GetAnswer | undefined;
  /** Whether rows offer "Change…" (the token has the write right). */
  canChange = true;
  private readonly directionNote = h('p', { class: 'muted small', id: 'direction-note' });

  private readonly directionInputs: Record<Direction, HTMLInputElement>;
  private readonly sizeSelect: HTMLSelectElement;
  private readonly table = h('table', { class: 'relations', id: 'relations-table' });
  private readonly status = h('p', { class: 'status', role: 'status', id: 'table-status' });
  private readonly prev = h('button', { type: 'button', id: 'page-prev' }, '← Previous');
  private readonly next = h('button', { type: 'button', id: 'page-next' }, 'Next page →');

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
      this.froms = [undefined];
      void this.load();
    });
    this.prev.addEventListener('click', () => {
      this.froms.pop();
      void this.load();
    });
    this.next.addEventListener('click', () => {
      if (!this.answer?.next_from) return;
      this.froms.push(this.answer.next_from);
      void this.load();
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
      h('div', { class: 'table-scroll' }, this.table),
      h('div', { class: 'pager' }, this.prev, this.status, this.next),
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
    this.froms = [undefined];
    return this.load();
  }

  /** No profile: nothing of the previous one stays on screen (a new type, a failed search). */
  clear(type?: RelationType): void {
    this.type = type;
    this.profile = undefined;
    this.answer = undefined;
    this.froms = [undefined];
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
    this.froms = [undefined];
    void this.load();
  }

  private async load(): Promise<void> {
    const { type, profile } = this;
    if (!type || !profile) return;
    const from = this.froms.at(-1);
    say(this.status, 'Loading…');
    try {
      this.answer = await this.options.api().relations.get({
        rel_id: type.rel_id,
        profile_id: profile.id,
        limit: this.pageSize,
        ...(from === undefined ? {} : { from }),
        ...(this.direction === 'outgoing' ? { side: 'b' } : {}),
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
          h('th', { scope: 'col' }, other),
          ...props.map((p) =>
            h('th', { scope: 'col', class: p.type === 'string' || p.type === 'bool' ? '' : 'num' }, p.name),
          ),
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
    const page = this.froms.length - 1;
    const first = page * this.pageSize + 1;
    if (this.answer) {
      say(
        this.status,
        rows.length
          ? `Rows ${first}–${first + rows.length - 1} of ${this.answer.total_count}`
          : `0 of ${this.answer.total_count}`,
      );
    }
    this.prev.disabled = page === 0;
    this.next.disabled = !this.answer?.next_from;
  }
}
