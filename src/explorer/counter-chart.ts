// get_counter as charts in plain HTML: per property the top-N initiators as horizontal bars, and the
// kept sums side by side — no chart library, readable by screen readers as lists.
import type { CounterAnswer, RelationType } from './api.js';
import { clear, formatValue, h } from './dom-helpers.js';

interface Bar {
  readonly label: string;
  readonly title: string;
  readonly value: number;
}

function bars(items: readonly Bar[], className: string): HTMLOListElement {
  const max = Math.max(...items.map((b) => Math.abs(b.value)), 0);
  return h(
    'ol',
    { class: `bars ${className}` },
    ...items.map((b) => {
      const bar = h('span', { class: b.value < 0 ? 'bar negative' : 'bar' });
      // CSSOM, not a style attribute: allowed by the page's content security policy.
      bar.style.width = `${max > 0 ? Math.max(1, (Math.abs(b.value) / max) * 100) : 0}%`;
      return h(
        'li',
        {},
        h('span', { class: 'bar-label', title: b.title }, b.label),
        h('span', { class: 'bar-track', 'aria-hidden': 'true' }, bar),
        h('span', { class: 'bar-value' }, formatValue(b.value)),
      );
    }),
  );
}

export function renderCounter(
  root: HTMLElement,
  type: RelationType,
  answer: CounterAnswer,
  labelOf: (id: string) => string,
): void {
  clear(root);
  const { data } = answer;
  root.append(
    h(
      'p',
      { class: 'counter-total' },
      h('strong', {}, String(data.total)),
      ` incoming relation${data.total === 1 ? '' : 's'} of type ${type.name} to ${labelOf(data.profile_id)}.`,
    ),
  );
  const ordered = type.properties.filter((p) => data.props[p.name]);
  const sums: Bar[] = [];
  for (const property of ordered) {
    const c = data.props[property.name]!;
    if (c.sum !== null) sums.push({ label: property.name, title: `sum of ${property.name}`, value: c.sum });
    const caption = h(
      'figcaption',
      {},
      h('strong', {}, property.name),
      ` (${property.type}) — on ${c.total} relation${c.total === 1 ? '' : 's'}`,
      c.sum === null ? '' : ` · sum ${formatValue(c.sum)}`,
    );
    const body = c.top?.length
      ? bars(
          c.top.map((t) => ({ label: labelOf(t.profile_id), title: t.profile_id, value: t.value })),
          'top',
        )
      : h('p', { class: 'muted' }, c.top ? 'No values yet.' : 'No top kept for this property.');
    root.append(
      h(
        'figure',
        { class: 'counter-prop', 'data-prop': property.name },
        caption,
        c.top ? h('p', { class: 'muted small' }, `Top ${property.top}, highest first`) : '',
        body,
      ),
    );
  }
  if (sums.length > 1) {
    // Not bars on one scale: the properties' magnitudes differ (a count of likes beside an amount
    // of money would flatten one of them to nothing). Each sum is shown with its own mean instead.
    root.append(
      h(
        'figure',
        { class: 'counter-prop sums' },
        h('figcaption', {}, h('strong', {}, 'Sums'), ' — each property on its own scale'),
        h(
          'ul',
          { class: 'sum-list' },
          ...sums.map((b) => {
            const count = data.props[b.label]!.total;
            return h(
              'li',
              { 'data-prop': b.label },
              h('span', { class: 'mono' }, b.label),
              ': ',
              h('strong', {}, formatValue(b.value)),
              h(
                'span',
                { class: 'muted small' },
                ` · mean ${formatValue(count ? b.value / count : 0)} on ${count}`,
              ),
            );
          }),
        ),
      ),
    );
  }
  if (ordered.length === 0) root.append(h('p', { class: 'muted' }, 'No property is set on these relations.'));
}
