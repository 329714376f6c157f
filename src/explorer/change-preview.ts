// What a write will do, shown before it is sent: one line per property, "current → new", computed
// the way the server applies each operation (SPEC §5): attach sets, strengthen adds to numbers and
// sets the rest, edit overwrites or removes, detach removes the relation with all its values.
import type { Property, PropValue } from './api.js';
import { formatValue, h } from './dom-helpers.js';

export type Operation = 'attach' | 'strengthen' | 'edit' | 'detach';

export type Props = Readonly<Record<string, PropValue>>;

/** The four writes, as the change form offers them. */
export const OPERATIONS: readonly { op: Operation; label: string; hint: string; done: string }[] = [
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

export interface PreviewLine {
  readonly prop: string;
  readonly current: string;
  readonly next: string;
}

const NONE = '(none)';

function show(value: PropValue | undefined): string {
  return value === undefined ? NONE : formatValue(value);
}

/**
 * The lines of a change. `current` is the relation's values when the page knows them (undefined:
 * not known — the relation is not on the table's page), `weights` what the form sends.
 */
export function previewLines(
  op: Operation,
  properties: readonly Property[],
  current: Props | undefined,
  weights: Readonly<Record<string, unknown>>,
): PreviewLine[] {
  const known = current !== undefined;
  const cur = (name: string) => (known ? show(current[name]) : 'not loaded');
  if (op === 'detach') {
    if (!known) return [];
    return properties
      .filter((p) => current[p.name] !== undefined)
      .map((p) => ({ prop: p.name, current: cur(p.name), next: 'removed' }));
  }
  const lines: PreviewLine[] = [];
  for (const p of properties) {
    if (!(p.name in weights)) continue;
    const given = weights[p.name];
    let next: string;
    if (given === null) next = 'removed';
    else if (op === 'strengthen' && (p.type === 'int' || p.type === 'float') && typeof given === 'number') {
      const before = current?.[p.name];
      next =
        typeof before === 'number' || (known && before === undefined)
          ? formatValue((typeof before === 'number' ? before : 0) + given)
          : `current ${given < 0 ? '−' : '+'} ${formatValue(Math.abs(given))}`;
    } else next = typeof given === 'string' && p.type !== 'string' ? `"${given}"` : show(given as PropValue);
    lines.push({ prop: p.name, current: cur(p.name), next });
  }
  return lines;
}

/** The preview as a list a screen reader reads in order ("donate: 120 → 130"). */
export function previewElement(
  title: string,
  lines: readonly PreviewLine[],
  note: string | undefined,
): HTMLElement {
  return h(
    'div',
    { class: 'preview', id: 'change-preview', role: 'group', 'aria-labelledby': 'change-preview-title' },
    h('p', { id: 'change-preview-title' }, h('strong', {}, title)),
    lines.length
      ? h(
          'ul',
          {},
          ...lines.map((l) =>
            h(
              'li',
              { 'data-prop': l.prop },
              h('span', { class: 'mono' }, l.prop),
              ': ',
              h('span', { class: 'current' }, l.current),
              ' → ',
              h('strong', { class: 'next' }, l.next),
            ),
          ),
        )
      : null,
    note ? h('p', { class: 'muted small' }, note) : null,
  );
}
