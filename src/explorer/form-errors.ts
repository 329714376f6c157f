// Shows a server error at the field it names: error_text starts with the parameter's path
// (`weights.donate: …`, `profile_b.email: …`, `profile_b: …`), and each input or fieldset carries
// that path in data-param. The closest match wins; an error naming no field goes to the form.
import { errorText, TiesApiError } from './api.js';
import { h } from './dom-helpers.js';

export function clearErrors(form: HTMLElement): void {
  for (const el of form.querySelectorAll('.field-error')) el.remove();
  for (const el of form.querySelectorAll('[aria-invalid]')) {
    el.removeAttribute('aria-invalid');
    const described = (el.getAttribute('aria-describedby') ?? '')
      .split(' ')
      .filter((id) => id && !id.endsWith('-error'));
    if (described.length) el.setAttribute('aria-describedby', described.join(' '));
    else el.removeAttribute('aria-describedby');
  }
}

/** The element a parameter path names: exact, else the longest visible prefix (profile_b for profile_b.x). */
export function fieldFor(form: HTMLElement, param: string | undefined): HTMLElement | undefined {
  if (!param) return undefined;
  let best: HTMLElement | undefined;
  let bestLength = -1;
  for (const el of form.querySelectorAll<HTMLElement>('[data-param]')) {
    if (el.closest('[hidden]')) continue;
    const p = el.dataset.param!;
    const matches = param === p || param.startsWith(`${p}.`) || param.startsWith(`${p}[`);
    if (matches && p.length > bestLength) {
      best = el;
      bestLength = p.length;
    }
  }
  return best;
}

let errorIds = 0;

/** Shows the error at its field (or at the top of the form) and moves focus there. */
export function showError(form: HTMLElement, err: unknown): void {
  clearErrors(form);
  const text = errorText(err);
  const param = err instanceof TiesApiError ? err.param : undefined;
  const field = fieldFor(form, param);
  const id = `${form.id || 'form'}-error-${++errorIds}`;
  const message = h('p', { class: 'field-error', id, role: 'alert', 'data-error-for': param ?? '' }, text);
  if (!field) {
    form.prepend(message);
    message.tabIndex = -1;
    message.focus();
    return;
  }
  const legend = field instanceof HTMLFieldSetElement ? field.querySelector(':scope > legend') : null;
  if (legend) {
    legend.after(message);
  } else {
    // Inside the field's wrapper, right under its input, so grids of fields keep their shape.
    const wrap = field.closest('.field');
    if (wrap) wrap.append(message);
    else field.after(message);
  }
  field.setAttribute('aria-invalid', 'true');
  const described = field.getAttribute('aria-describedby');
  field.setAttribute('aria-describedby', described ? `${described} ${id}` : id);
  // A fieldset or group is not focusable itself: the keyboard goes to its first control.
  const focusable = field.matches('input, select, textarea, button, [tabindex]')
    ? field
    : field.querySelector<HTMLElement>('input, select, textarea');
  focusable?.focus();
}
