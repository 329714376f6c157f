// The form that changes a relation: attach, strengthen, edit or detach, with profile A and B found
// by any matching mode and one typed input per property; server errors appear at the field named.
// Nothing is sent on the first submit: the form shows "current → new" for every value and sends
// only when that is confirmed; a detach can be undone for a few seconds.
import type { PropValue, RelationRow, RelationType, TiesClient } from './api.js';
import { OPERATIONS, type Operation, type Props, previewElement, previewLines } from './change-preview.js';
import { clear, h, say } from './dom-helpers.js';
import { clearErrors, showError } from './form-errors.js';
import { type Identification, type MatchingFields, matchingFields } from './matching-fields.js';

export type { Operation } from './change-preview.js';

/** How long a detach can be undone (the Undo button then goes). */
export const UNDO_MS = 8000;

export interface ChangeDone {
  readonly op: Operation;
  readonly profileA: string;
  readonly profileB: string;
}

export interface RelationFormOptions {
  readonly api: () => TiesClient;
  readonly dbName: (id: number) => string;
  readonly labelOf: (id: string) => string;
  readonly onDone: (change: ChangeDone) => void | Promise<void>;
  /** The relation's current values when the page has them (the table's rows), else undefined. */
  readonly currentOf: (profileA: string, profileB: string) => Props | undefined;
}

/** What a number input may hold to be sent as a number; anything else goes as typed, for the
 * server to name. Integers are digits only: "1e3" or "1.0" is not an integer someone typed. */
const INTEGER = /^[-+]?\d+$/;
const DECIMAL = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;

interface Pending {
  readonly op: Operation;
  readonly params: Record<string, unknown>;
  readonly previous: Props | undefined;
}

export class RelationForm {
  private type: RelationType | undefined;
  private readonly a: MatchingFields = matchingFields('change-a', 'profile_a.');
  private readonly b: MatchingFields = matchingFields('change-b', 'profile_b.');
  private readonly legendA = h('legend', {}, 'Profile A');
  private readonly legendB = h('legend', {}, 'Profile B');
  private readonly typeLine = h('p', { class: 'type-line', 'data-param': 'rel_id', tabindex: '-1' });
  private readonly weights = h('fieldset', { 'data-param': 'weights', id: 'change-weights' });
  private readonly submit = h('button', { type: 'submit', class: 'primary', id: 'change-submit' }, 'Attach');
  private readonly status = h('p', { class: 'status', role: 'status', id: 'change-status' });
  private readonly back = h('button', { type: 'button', id: 'change-back', hidden: true }, 'Back');
  private readonly previewSlot = h('div', { class: 'preview-slot' });
  private readonly opInputs = new Map<Operation, HTMLInputElement>();
  private pending: Pending | undefined;
  private undoTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly form: HTMLFormElement,
    private readonly options: RelationFormOptions,
  ) {
    const ops = h('fieldset', { class: 'ops' }, h('legend', {}, 'Operation'));
    for (const o of OPERATIONS) {
      const input = h('input', {
        type: 'radio',
        name: 'op',
        value: o.op,
        id: `op-${o.op}`,
        checked: o.op === 'attach',
      });
      input.addEventListener('change', () => this.syncOperation());
      this.opInputs.set(o.op, input);
      ops.append(
        h(
          'label',
          { for: input.id, class: 'op' },
          input,
          ' ',
          h('strong', {}, o.label),
          h('span', { class: 'muted small' }, ` — ${o.hint}`),
        ),
      );
    }
    form.noValidate = true;
    form.append(
      this.typeLine,
      ops,
      h(
        'div',
        { class: 'sides' },
        h('fieldset', { 'data-param': 'profile_a', class: 'side' }, this.legendA, this.a.element),
        h('fieldset', { 'data-param': 'profile_b', class: 'side' }, this.legendB, this.b.element),
      ),
      this.weights,
      this.previewSlot,
      h('div', { class: 'actions' }, this.back, this.submit),
      this.status,
    );
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      if (this.pending) void this.send(this.pending);
      else this.preview();
    });
    // Any edit after the preview makes it stale: back to filling in.
    form.addEventListener('input', () => this.cancelPreview());
    form.addEventListener('change', () => this.cancelPreview());
    this.back.addEventListener('click', () => {
      this.cancelPreview();
      this.submit.focus();
    });
    this.syncOperation();
  }

  /** Empties the form (a new relation type or profile: nothing of the previous one applies). */
  reset(): void {
    this.cancelPreview();
    this.a.set({ matching: 'profile_id' });
    this.b.set({ matching: 'profile_id' });
    this.clearWeights();
    this.setOperation('attach');
    clearErrors(this.form);
    say(this.status, '');
    this.dropUndo();
  }

  get operation(): Operation {
    for (const [op, input] of this.opInputs) if (input.checked) return op;
    return 'attach';
  }

  setOperation(op: Operation): void {
    this.opInputs.get(op)!.checked = true;
    this.syncOperation();
  }

  private clearWeights(): void {
    for (const el of this.weights.querySelectorAll<HTMLInputElement | HTMLSelectElement>('[data-param]'))
      el.value = '';
    for (const box of this.weights.querySelectorAll<HTMLInputElement>('[data-remove]')) box.checked = false;
  }

  setType(type: RelationType): void {
    this.type = type;
    clear(this.typeLine);
    this.typeLine.append('Relation type ', h('strong', {}, type.name), ` (rel_id ${type.rel_id}): B → A`);
    clear(this.legendA);
    this.legendA.append(`Profile A — recipient, in ${this.options.dbName(type.db_a)}`);
    clear(this.legendB);
    this.legendB.append(`Profile B — initiator, in ${this.options.dbName(type.db_b)}`);
    clear(this.weights);
    this.weights.append(h('legend', {}, 'Weights'));
    if (type.properties.length === 0)
      this.weights.append(h('p', { class: 'muted' }, 'This type has no properties.'));
    for (const p of type.properties) {
      const id = `change-w-${p.name}`;
      const control =
        p.type === 'bool'
          ? h(
              'select',
              { id, name: p.name, 'data-param': `weights.${p.name}`, 'data-type': p.type },
              h('option', { value: '' }, '(not given)'),
              h('option', { value: 'true' }, 'true'),
              h('option', { value: 'false' }, 'false'),
            )
          : h('input', {
              id,
              name: p.name,
              type: 'text',
              inputmode: p.type === 'string' ? null : p.type === 'int' ? 'numeric' : 'decimal',
              autocomplete: 'off',
              'data-param': `weights.${p.name}`,
              'data-type': p.type,
            });
      const remove = h('input', { type: 'checkbox', id: `${id}-null`, 'data-remove': p.name });
      this.weights.append(
        h(
          'div',
          { class: 'field weight' },
          h('label', { for: id }, `${p.name} `, h('span', { class: 'muted small' }, `(${p.type})`)),
          control,
          h('label', { for: remove.id, class: 'inline remove' }, remove, ' remove'),
        ),
      );
    }
    this.syncOperation();
  }

  /** Fills profile A, profile B and, optionally, the weights (e.g. from a table row). */
  fill(values: {
    a?: Identification;
    b?: Identification;
    weights?: Readonly<Record<string, PropValue>>;
  }): void {
    if (values.a) this.a.set(values.a);
    if (values.b) this.b.set(values.b);
    if (values.weights) {
      for (const el of this.weights.querySelectorAll<HTMLInputElement | HTMLSelectElement>('[data-param]')) {
        const v = values.weights[el.name];
        el.value = v === undefined ? '' : String(v);
      }
      for (const box of this.weights.querySelectorAll<HTMLInputElement>('[data-remove]')) box.checked = false;
    }
  }

  /** Prepares an edit of an existing relation and moves the keyboard to its first value. */
  editRow(row: RelationRow): void {
    this.editRelation(
      row.profile_id_a,
      row.profile_id_b,
      Object.fromEntries(Object.entries(row.props).map(([k, v]) => [k, v.value])),
    );
  }

  editRelation(profileA: string, profileB: string, values: Props): void {
    this.setOperation('edit');
    this.fill({
      a: { matching: 'profile_id', profile_id: profileA },
      b: { matching: 'profile_id', profile_id: profileB },
      weights: values,
    });
    this.form.scrollIntoView({ block: 'start' });
    (this.weights.querySelector<HTMLElement>('[data-param]') ?? this.submit).focus();
  }

  /** Prepares a detach of this relation and shows its confirmation (the keyboard at Confirm). */
  detachRelation(profileA: string, profileB: string): void {
    this.setOperation('detach');
    this.fill({
      a: { matching: 'profile_id', profile_id: profileA },
      b: { matching: 'profile_id', profile_id: profileB },
    });
    this.form.scrollIntoView({ block: 'start' });
    this.preview();
  }

  private lastOp: Operation | undefined;

  private syncOperation(): void {
    const op = this.operation;
    // A form for increments or for a new relation starts empty: values filled for an edit are the
    // relation's current ones, and strengthening by them would add them a second time.
    if (op !== this.lastOp && (op === 'strengthen' || op === 'attach')) this.clearWeights();
    this.lastOp = op;
    const o = OPERATIONS.find((x) => x.op === op)!;
    this.submit.textContent = o.label;
    this.weights.hidden = op === 'detach';
    for (const el of this.weights.querySelectorAll<HTMLElement>('.remove')) el.hidden = op !== 'edit';
  }

  private readWeights(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    const edit = this.operation === 'edit';
    for (const el of this.weights.querySelectorAll<HTMLInputElement | HTMLSelectElement>('[data-param]')) {
      const name = el.name;
      if (
        edit &&
        this.weights.querySelector<HTMLInputElement>(`[data-remove="${CSS.escape(name)}"]`)?.checked
      ) {
        out[name] = null;
        continue;
      }
      const text = el.value.trim();
      if (text === '' && el.dataset.type !== 'string') continue;
      if (el.value === '') continue;
      switch (el.dataset.type) {
        case 'bool':
          out[name] = text === 'true';
          break;
        case 'int':
        case 'float':
          // Not a number: sent as typed, so Ties names the property and what it expected.
          out[name] = (el.dataset.type === 'int' ? INTEGER : DECIMAL).test(text) ? Number(text) : text;
          break;
        default:
          out[name] = el.value;
      }
    }
    return out;
  }

  /** Ids of A and B when the form names them by profile_id (then their current values may be known). */
  private ids(params: Record<string, unknown>): { a: string; b: string } | undefined {
    const a = params.profile_a as Identification;
    const b = params.profile_b as Identification;
    if (a.matching !== 'profile_id' || b.matching !== 'profile_id' || !a.profile_id || !b.profile_id)
      return undefined;
    return { a: a.profile_id, b: b.profile_id };
  }

  /** First submit: shows what the change will do ("current → new"); the next submit sends it. */
  private preview(): void {
    const type = this.type;
    if (!type) return;
    clearErrors(this.form);
    this.dropUndo();
    const op = this.operation;
    const weights = op === 'detach' ? {} : this.readWeights();
    const params: Record<string, unknown> = {
      rel_id: type.rel_id,
      profile_a: this.a.read(),
      profile_b: this.b.read(),
      ...(op === 'detach' ? {} : { weights }),
    };
    const ids = this.ids(params);
    const previous = ids ? this.options.currentOf(ids.a, ids.b) : undefined;
    const lines = previewLines(op, type.properties, previous, weights);
    const label = OPERATIONS.find((x) => x.op === op)!.label;
    const { labelOf } = this.options;
    const who = ids ? `${labelOf(ids.b)} → ${labelOf(ids.a)}` : 'the profiles named above';
    let note: string | undefined;
    if (op === 'detach')
      note = previous
        ? `The relation is removed; Undo re-attaches it with these values for ${UNDO_MS / 1000} s.`
        : 'The relation and all its values are removed (its values are not on the page, so it cannot be undone here).';
    else if (!previous)
      note = ids
        ? 'Its current values are not on the page (open profile A to see them).'
        : 'Current values are shown when both profiles are given by profile id.';
    else if (op === 'attach') note = 'This relation exists: attach will be refused (use Edit or Strengthen).';
    if (op !== 'detach' && lines.length === 0) note = `${note ? `${note} ` : ''}No values given.`;
    clear(this.previewSlot);
    this.previewSlot.append(previewElement(`${label} ${who}:`, lines, note));
    this.pending = { op, params, previous };
    this.submit.textContent = `Confirm ${label.toLowerCase()}`;
    this.back.hidden = false;
    say(this.status, 'Check the change, then confirm it.');
    this.submit.focus();
  }

  private cancelPreview(): void {
    if (!this.pending) return;
    this.pending = undefined;
    clear(this.previewSlot);
    this.back.hidden = true;
    this.submit.textContent = OPERATIONS.find((x) => x.op === this.operation)!.label;
    say(this.status, '');
  }

  private async send(pending: Pending): Promise<void> {
    const { op, params, previous } = pending;
    this.submit.disabled = true;
    this.back.disabled = true;
    this.form.setAttribute('aria-busy', 'true');
    say(this.status, 'Sending…');
    try {
      const answer = await this.options.api().call(`relations/${op}`, params as never);
      this.cancelPreview();
      // The views are brought up to date first, so "done" means the new values are on screen.
      await this.options.onDone({ op, profileA: answer.profile_a, profileB: answer.profile_b });
      const done = OPERATIONS.find((x) => x.op === op)!.done;
      const { labelOf } = this.options;
      say(this.status, `${done}: ${labelOf(answer.profile_b)} → ${labelOf(answer.profile_a)}`, 'ok');
      if (op === 'detach' && previous) this.offerUndo(params.rel_id as number, answer, previous);
    } catch (err) {
      this.cancelPreview();
      say(this.status, 'Nothing changed: see the message at the field.', 'error');
      showError(this.form, err);
    } finally {
      this.submit.disabled = false;
      this.back.disabled = false;
      this.form.removeAttribute('aria-busy');
    }
  }

  /** After a detach: an Undo button that re-attaches the relation with its previous values. */
  private offerUndo(rel_id: number, ids: { profile_a: string; profile_b: string }, previous: Props): void {
    const undo = h('button', { type: 'button', id: 'change-undo', class: 'small-button' }, 'Undo');
    undo.addEventListener('click', async () => {
      this.dropUndo();
      say(this.status, 'Undoing…');
      try {
        await this.options.api().relations.attach({
          rel_id,
          profile_a: { matching: 'profile_id', profile_id: ids.profile_a },
          profile_b: { matching: 'profile_id', profile_id: ids.profile_b },
          weights: { ...previous },
        });
        await this.options.onDone({ op: 'attach', profileA: ids.profile_a, profileB: ids.profile_b });
        say(this.status, 'Undone: the relation is back with its values.', 'ok');
      } catch (err) {
        say(this.status, `Undo failed: ${err instanceof Error ? err.message : String(err)}`, 'error');
      }
      this.submit.focus();
    });
    this.status.append(' ', undo);
    this.undoTimer = setTimeout(() => this.dropUndo(), UNDO_MS);
  }

  private dropUndo(): void {
    clearTimeout(this.undoTimer);
    this.undoTimer = undefined;
    this.status.querySelector('#change-undo')?.remove();
  }
}
