// The relation-type choice: the list of types, and what a change of type resets (the selection,
// the form's properties, the table's columns, the graph's width property and the legend).
import type { RelationType } from './api.js';
import { byId, clear, h } from './dom-helpers.js';
import { dbName, selectedType, state } from './explorer-state.js';
import { rankCandidates } from './graph-neighbours.js';
import { INCOMING_COLOUR, OUTGOING_COLOUR } from './graph-view.js';
import type { RelationForm } from './relation-form.js';
import type { RelationsTable } from './relations-table.js';
import type { Selection } from './selection.js';

export class TypePicker {
  private readonly select = byId<HTMLSelectElement>('find-type');
  private readonly widthSelect = byId<HTMLSelectElement>('width-property');

  constructor(
    private readonly selection: Selection,
    private readonly form: RelationForm,
    private readonly table: RelationsTable,
  ) {
    this.select.addEventListener('change', () => this.onTypeChange());
    this.widthSelect.addEventListener('change', () => {
      selection.setRank(this.widthSelect.value || undefined, true);
      // The graph draws the strongest neighbours by this property: draw them again.
      if (state.focal) void selection.open(state.focal, true);
    });
    // A new drawing ranked by another property than the default (the profile has no values of it).
    selection.onRank = (name) => {
      this.widthSelect.value = name;
    };
  }

  /** Lists the session's relation types and selects the first. */
  populate(): void {
    const select = this.select;
    clear(select);
    for (const t of state.types) {
      select.append(
        h(
          'option',
          { value: t.rel_id },
          `${t.name} (rel_id ${t.rel_id}): ${dbName(t.db_b)} → ${dbName(t.db_a)}`,
        ),
      );
    }
    if (state.types.length === 0)
      select.append(h('option', { value: '' }, 'No relation types yet (see Admin)'));
    this.onTypeChange();
  }

  /** Selects a type as if chosen in the list (a deep link). */
  choose(relId: number): void {
    this.select.value = String(relId);
    this.onTypeChange();
  }

  private onTypeChange(): void {
    const type = selectedType();
    this.selection.clear();
    if (!type) return;
    this.form.setType(type);
    this.table.clear(type);
    const widthSelect = this.widthSelect;
    clear(widthSelect);
    widthSelect.append(h('option', { value: '' }, '(same width)'));
    const numeric = type.properties.filter((p) => p.type === 'int' || p.type === 'float');
    for (const p of numeric) widthSelect.append(h('option', { value: p.name }, p.name));
    // Not chosen by the user: each profile opened is ranked by the first candidate it has values of.
    widthSelect.value = rankCandidates(type)[0] ?? '';
    this.selection.setRank(widthSelect.value || undefined, false);
    this.renderLegend(type);
  }

  private renderLegend(type: RelationType): void {
    const legend = byId('legend');
    clear(legend);
    const swatch = (colour: string, shape: 'line' | 'dashed' | 'dot') => {
      const el = h('span', { class: `swatch ${shape}`, 'aria-hidden': 'true' });
      if (shape === 'dot') el.style.backgroundColor = colour;
      else el.style.borderTopColor = colour;
      return el;
    };
    const graph = this.selection.ensureGraph();
    const dbs = [...new Set([type.db_a, type.db_b])];
    legend.append(
      h('li', {}, swatch(INCOMING_COLOUR, 'line'), 'incoming: to the selected profile (it is A)'),
      h('li', {}, swatch(OUTGOING_COLOUR, 'dashed'), 'outgoing: from the selected profile (it is B)'),
      h('li', {}, swatch('#9ca3af', 'line'), 'between other profiles; arrows point B → A'),
      ...dbs.map((db) => h('li', {}, swatch(graph.colourOf(db), 'dot'), `profile in ${dbName(db)}`)),
    );
  }
}
