// The form that changes a relation: attach, strengthen, edit or detach, with profile A and B found
// by any matching mode and one typed input per property; server errors appear at the field named.
import type { PropValue, RelationRow, RelationType, TiesClient } from './api.js';
import { clear, h, say } from './dom-helpers.js';
import { clearErrors, showError } from './form-errors.js';
import { type Identification, type MatchingFields, matchingFields } from './matching-fields.js';

export type Operation = 'attach' | 'strengthen' | 'edit' | 'detach';

const OPERATIONS: readonly { op: Operation; label: string; hint: string; done: string }[] = [
  {
    op: 'attach',
    label: 'Attach',
    hint: 'create it with these values; refused if it exists',
    done: 'Attached',
  },
  {
    op: 'strengthen',
    label: 'Strengthen',
    hint: 'add to numbers (negative subtracts), set true/false and text; creates it if missing',
    done: 'Strengthened',
  },
  {
    op: 'edit',
    label: 'Edit',
    hint: 'overwrite the values given, keep the rest; "remove" deletes one',
    done: 'Edited',
  },
  { op: 'detach', label: 'Detach', hint: 'remove the relation', done: 'Detached' },
];

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
}

const NUMBER = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;

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
  private readonly opInputs = new Map<Operation, HTMLInputElement>();

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
      h('div', { class: 'actions' }, this.submit),
      this.status,
    );
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      void this.send();
    });
    this.syncOperation();
  }

  get operation(): Operation {
    for (const [op, input] of this.opInputs) if (input.checked) return op;
    return 'attach';
  }

  setOperation(op: Operation): void {
    this.opInputs.get(op)!.checked = true;
    this.syncOperation();
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
    this.setOperation('edit');
    this.fill({
      a: { matching: 'profile_id', profile_id: row.profile_id_a },
      b: { matching: 'profile_id', profile_id: row.profile_id_b },
      weights: Object.fromEntries(Object.entries(row.props).map(([k, v]) => [k, v.value])),
    });
    this.form.scrollIntoView({ block: 'start' });
    (this.weights.querySelector<HTMLElement>('[data-param]') ?? this.submit).focus();
  }

  private syncOperation(): void {
    const op = this.operation;
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
          out[name] = NUMBER.test(text) ? Number(text) : text;
          break;
        default:
          out[name] = el.value;
      }
    }
    return out;
  }

  private async send(): Promise<void> {
    const type = this.type;
    if (!type) return;
    clearErrors(this.form);
    const op = this.operation;
    const params: Record<string, unknown> = {
      rel_id: type.rel_id,
      profile_a: this.a.read(),
      profile_b: this.b.read(),
      ...(op === 'detach' ? {} : { weights: this.readWeights() }),
    };
    this.submit.disabled = true;
    say(this.status, 'Sending…');
    try {
      const answer = await this.options.api().call(`relations/${op}`, params as never);
      // The views are brought up to date first, so "done" means the new values are on screen.
      await this.options.onDone({ op, profileA: answer.profile_a, profileB: answer.profile_b });
      const done = OPERATIONS.find((x) => x.op === op)!.done;
      const { labelOf } = this.options;
      say(this.status, `${done}: ${labelOf(answer.profile_b)} → ${labelOf(answer.profile_a)}`, 'ok');
    } catch (err) {
      say(this.status, 'Nothing changed: see the message at the field.', 'error');
      showError(this.form, err);
    } finally {
      this.submit.disabled = false;
    }
  }
}
