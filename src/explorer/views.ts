// The two views, relations and admin: one shown at a time, the current one marked for assistive
// technology, the admin view drawn afresh each time it opens.
import { renderAdmin } from './admin-view.js';
import { errorText } from './api.js';
import { byId, clear, h } from './dom-helpers.js';
import { callApi, state } from './explorer-state.js';
import type { Selection } from './selection.js';

export type ViewName = 'relations' | 'admin';

export function initViews(selection: Selection): (name: ViewName) => void {
  function showView(name: ViewName): void {
    if (!state.api) return;
    for (const button of document.querySelectorAll<HTMLButtonElement>('#views button')) {
      const active = button.dataset.view === name;
      if (active) button.setAttribute('aria-current', 'page');
      else button.removeAttribute('aria-current');
    }
    byId('view-relations').hidden = name !== 'relations';
    byId('view-admin').hidden = name !== 'admin';
    if (name === 'relations') {
      selection.ensureGraph().cy.resize();
    } else {
      const root = byId('admin');
      renderAdmin(root, callApi()).catch((err: unknown) => {
        clear(root);
        root.append(h('p', { class: 'field-error', role: 'alert' }, errorText(err)));
      });
    }
  }

  for (const button of document.querySelectorAll<HTMLButtonElement>('#views button')) {
    button.addEventListener('click', () => {
      showView(button.dataset.view as ViewName);
      byId(`${button.dataset.view}-heading`).focus();
    });
  }
  return showView;
}
