// The relations table's controls: the filter (a profile id prefix, bounds on the sorted numeric
// property) and the pager (first, previous, page n of N with Go, next, last). They hold no rows;
// they say what the user asked for, and the table loads it (relations/get id_prefix/min/max, offset).
import type { Property } from './api.js';
import { h, say } from './dom-helpers.js';

export interface TableFilter {
  readonly idPrefix?: string;
  readonly min?: number;
  readonly max?: number;
}

const ID_PREFIX = /^[0-9a-fA-F]{1,24}$/;

/** A profile id prefix and, when the table is sorted by a number, a range of it. */
export class FilterControls {
  readonly root: HTMLFormElement;
  private readonly prefix = h('input', {
    id: 'table-id-prefix',
    type: 'search',
    inputmode: 'text',
    autocomplete: 'off',
    spellcheck: 'false',
    placeholder: 'e.g. 5d44',
    'aria-describedby': 'table-filter-error',
  });
  private readonly min = h('input', { id: 'table-min', type: 'number', step: 'any', inputmode: 'decimal' });
  private readonly max = h('input', { id: 'table-max', type: 'number', step: 'any', inputmode: 'decimal' });
  private readonly rangeLabel = h('span', { id: 'table-range-label' }, 'Range');
  private readonly range = h('fieldset', { class: 'inline-group', 'aria-labelledby': 'table-range-label' });
  private readonly error = h('p', { class: 'field-error', id: 'table-filter-error', role: 'alert' });

  constructor(onApply: (filter: TableFilter) => void) {
    const clearButton = h('button', { type: 'button', id: 'table-filter-clear' }, 'Clear');
    this.range.append(
      h('legend', { class: 'visually-hidden' }, this.rangeLabel),
      h('label', { for: this.min.id }, 'from'),
      this.min,
      h('label', { for: this.max.id }, 'to'),
      this.max,
    );
    this.root = h(
      'form',
      {
        class: 'toolbar table-filter',
        id: 'table-filter',
        role: 'search',
        'aria-label': 'Filter the relations',
      },
      h(
        'div',
        { class: 'field inline-field' },
        h('label', { for: this.prefix.id }, 'Profile id starts with'),
        this.prefix,
      ),
      this.range,
      h('button', { type: 'submit', id: 'table-filter-apply' }, 'Filter'),
      clearButton,
      this.error,
    );
    this.root.addEventListener('submit', (event) => {
      event.preventDefault();
      const filter = this.read();
      if (filter) onApply(filter);
    });
    clearButton.addEventListener('click', () => {
      this.prefix.value = '';
      this.min.value = '';
      this.max.value = '';
      say(this.error, '');
      onApply({});
    });
    this.setRangeProperty(undefined);
  }

  /** The range applies to the numeric property the table is sorted by, and to nothing else. */
  setRangeProperty(property: Property | undefined): void {
    const numeric = property && (property.type === 'int' || property.type === 'float');
    this.range.hidden = !numeric;
    if (!numeric) {
      this.min.value = '';
      this.max.value = '';
    }
    this.rangeLabel.textContent = numeric ? property.name : 'Range';
    if (numeric) this.min.setAttribute('aria-label', `${property.name} from`);
    if (numeric) this.max.setAttribute('aria-label', `${property.name} to`);
  }

  /** Empties the filter (a new profile or type). */
  reset(): void {
    this.prefix.value = '';
    this.min.value = '';
    this.max.value = '';
    say(this.error, '');
  }

  /** The filter asked for, or undefined (and the error shown) when a value is not valid. */
  private read(): TableFilter | undefined {
    say(this.error, '');
    const prefix = this.prefix.value.trim();
    if (prefix && !ID_PREFIX.test(prefix)) {
      say(this.error, 'Profile id: 1 to 24 hexadecimal characters (0–9, a–f).', 'error');
      this.prefix.setAttribute('aria-invalid', 'true');
      return undefined;
    }
    this.prefix.removeAttribute('aria-invalid');
    const number = (input: HTMLInputElement) => (input.value.trim() === '' ? undefined : Number(input.value));
    const [min, max] = this.range.hidden ? [undefined, undefined] : [number(this.min), number(this.max)];
    if (min !== undefined && max !== undefined && min > max) {
      say(this.error, `${this.rangeLabel.textContent}: "to" must be at least "from".`, 'error');
      return undefined;
    }
    return {
      ...(prefix ? { idPrefix: prefix.toLowerCase() } : {}),
      ...(min !== undefined ? { min } : {}),
      ...(max !== undefined ? { max } : {}),
    };
  }
}

/** First, previous, "Page n of N" with Go, next, last; pages are numbered from 1 on screen. */
export class PagerControls {
  readonly root: HTMLElement;
  readonly status = h('p', { class: 'status', role: 'status', id: 'table-status' });
  private readonly first = h('button', { type: 'button', id: 'page-first', 'aria-label': 'First page' }, '«');
  private readonly prev = h('button', { type: 'button', id: 'page-prev' }, '← Previous');
  private readonly next = h('button', { type: 'button', id: 'page-next' }, 'Next page →');
  private readonly last = h('button', { type: 'button', id: 'page-last', 'aria-label': 'Last page' }, '»');
  private readonly number = h('input', {
    id: 'page-number',
    type: 'number',
    min: 1,
    step: 1,
    inputmode: 'numeric',
  });
  private readonly of = h('span', { id: 'page-count' });
  private page = 0;
  private pages = 1;

  constructor(onPage: (page: number) => void) {
    this.first.addEventListener('click', () => onPage(0));
    this.prev.addEventListener('click', () => onPage(this.page - 1));
    this.next.addEventListener('click', () => onPage(this.page + 1));
    this.last.addEventListener('click', () => onPage(this.pages - 1));
    const jump = h(
      'form',
      { class: 'page-jump', id: 'page-jump' },
      h('label', { for: this.number.id }, 'Page'),
      this.number,
      this.of,
      h('button', { type: 'submit', id: 'page-go' }, 'Go'),
    );
    jump.addEventListener('submit', (event) => {
      event.preventDefault();
      const n = Number(this.number.value);
      if (!Number.isInteger(n)) return;
      onPage(Math.min(Math.max(n, 1), this.pages) - 1);
    });
    this.root = h(
      'div',
      { class: 'pager' },
      h('div', { class: 'pager-buttons' }, this.first, this.prev),
      this.status,
      h('div', { class: 'pager-buttons' }, this.next, this.last),
      jump,
    );
  }

  /** Shows page `page` (from 0) of `pages`; `more`: the server has rows after this page. */
  set(page: number, pages: number, more: boolean): void {
    this.page = page;
    this.pages = Math.max(1, pages);
    this.number.value = String(page + 1);
    this.number.max = String(this.pages);
    this.of.textContent = `of ${this.pages}`;
    this.first.disabled = this.prev.disabled = page === 0;
    this.next.disabled = this.last.disabled = !more;
  }
}
