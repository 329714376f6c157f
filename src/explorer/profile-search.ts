// The profile search: finds the profile by the chosen matching in either database of the relation
// type and selects it; a failed search selects nothing and says why at the field.
import { fieldError, TiesApiError } from './api.js';
import { byId } from './dom-helpers.js';
import { callApi, selectedType } from './explorer-state.js';
import { clearErrors, showError } from './form-errors.js';
import { type Labels, profileLabel } from './labels.js';
import { matchingFields } from './matching-fields.js';
import { tracked } from './progress.js';
import type { Selection } from './selection.js';

export function initProfileSearch(selection: Selection, labels: Labels): void {
  const findForm = byId<HTMLFormElement>('find-form');
  const findMatching = matchingFields('find', '');
  byId('find-profile').append(findMatching.element);

  async function findProfile(): Promise<void> {
    clearErrors(findForm);
    const type = selectedType();
    if (!type) {
      showError(findForm, fieldError('rel_id: choose a relation type'));
      return;
    }
    const ident = findMatching.read();
    const dbs = [...new Set([type.db_a, type.db_b])];
    let firstError: unknown;
    for (const db of dbs) {
      try {
        const found = await callApi().profiles.get({ db_id: db, ...ident });
        labels.set(found.data.id, profileLabel(found.data));
        await selection.open({ id: found.data.id, db }, true, found.data);
        return;
      } catch (err) {
        // A profile of the other database is looked for there before giving up; a 404 is only
        // reported when no database has the profile, any other error as it came.
        if (!(err instanceof TiesApiError) || err.code >= 500) {
          selection.clear();
          showError(findForm, err);
          return;
        }
        if (
          !firstError ||
          (firstError instanceof TiesApiError && firstError.code === 404 && err.code !== 404)
        )
          firstError = err;
      }
    }
    // A failed search selects nothing: the previous profile's views go (they would answer for it).
    selection.clear();
    showError(findForm, firstError);
  }

  findForm.addEventListener('submit', (event) => {
    event.preventDefault();
    void tracked(findProfile, 'Finding the profile…');
  });
}
