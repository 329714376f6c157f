// The inputs that identify a profile (SPEC §4): a matching-mode selector and only the fields that
// mode needs, each labelled and tagged with its parameter path so errors land at the right input.
import { h } from './dom-helpers.js';

type FieldName = 'email' | 'phone' | 'profile_id' | 'field_name' | 'field_value' | 'resource_id';

interface Mode {
  readonly mode: string;
  readonly label: string;
  readonly fields: readonly FieldName[];
}

export const MATCHING_MODES: readonly Mode[] = [
  { mode: 'profile_id', label: 'Profile id', fields: ['profile_id'] },
  { mode: 'email', label: 'Email (profile or subscription)', fields: ['email', 'resource_id'] },
  { mode: 'email_profile', label: 'Email (profile field only)', fields: ['email'] },
  { mode: 'email_sub', label: 'Email (subscriptions only)', fields: ['email', 'resource_id'] },
  { mode: 'phone', label: 'Phone (profile or SMS subscription)', fields: ['phone', 'resource_id'] },
  { mode: 'phone_sub', label: 'Phone (SMS subscriptions only)', fields: ['phone', 'resource_id'] },
  { mode: 'custom', label: 'Custom field', fields: ['field_name', 'field_value'] },
];

const FIELD_LABELS: Record<FieldName, string> = {
  email: 'Email',
  phone: 'Phone',
  profile_id: 'Profile id',
  field_name: 'Custom field name',
  field_value: 'Value (tags: comma-separated)',
  resource_id: 'Resource id (optional)',
};

const FIELD_INPUTS: Record<FieldName, Record<string, string>> = {
  email: { type: 'email', autocomplete: 'off', spellcheck: 'false' },
  phone: { type: 'tel', autocomplete: 'off' },
  profile_id: { type: 'text', autocomplete: 'off', spellcheck: 'false', maxlength: '64', class: 'mono' },
  field_name: { type: 'text', autocomplete: 'off', spellcheck: 'false' },
  field_value: { type: 'text', autocomplete: 'off' },
  resource_id: { type: 'text', inputmode: 'numeric', autocomplete: 'off' },
};

export type Identification = Readonly<Record<string, string>>;

export interface MatchingFields {
  readonly element: HTMLElement;
  /** The identification to send: the mode and its non-empty fields. */
  read(): Identification;
  set(ident: Identification): void;
  focus(): void;
}

/** @param idPrefix unique per form (`find`, `change-a`); @param paramPrefix `''` or `profile_a.` */
export function matchingFields(idPrefix: string, paramPrefix: string): MatchingFields {
  const select = h(
    'select',
    { id: `${idPrefix}-matching`, name: 'matching', 'data-param': `${paramPrefix}matching` },
    ...MATCHING_MODES.map((m) => h('option', { value: m.mode }, m.label)),
  );
  const inputs = new Map<FieldName, { wrap: HTMLElement; input: HTMLInputElement }>();
  const wraps: HTMLElement[] = [];
  for (const name of Object.keys(FIELD_LABELS) as FieldName[]) {
    const id = `${idPrefix}-${name}`;
    const input = h('input', { id, name, 'data-param': `${paramPrefix}${name}`, ...FIELD_INPUTS[name] });
    const wrap = h('div', { class: 'field' }, h('label', { for: id }, FIELD_LABELS[name]), input);
    inputs.set(name, { wrap, input });
    wraps.push(wrap);
  }
  const element = h(
    'div',
    { class: 'matching' },
    h('div', { class: 'field' }, h('label', { for: select.id }, 'Find by'), select),
    ...wraps,
  );

  const mode = () => MATCHING_MODES.find((m) => m.mode === select.value) ?? MATCHING_MODES[0]!;
  const sync = () => {
    const wanted = mode().fields;
    for (const [name, { wrap }] of inputs) wrap.hidden = !wanted.includes(name);
  };
  select.addEventListener('change', sync);
  sync();

  return {
    element,
    read() {
      const out: Record<string, string> = { matching: select.value };
      for (const name of mode().fields) {
        const value = inputs.get(name)!.input.value.trim();
        if (value !== '') out[name] = value;
      }
      return out;
    },
    set(ident) {
      if (ident.matching) select.value = ident.matching;
      for (const [name, { input }] of inputs) input.value = ident[name] ?? '';
      sync();
    },
    focus() {
      const first = mode().fields[0];
      (first ? inputs.get(first)!.input : select).focus();
    },
  };
}
