// Signing in and out: the token is checked by loading what the page needs (types, databases, the
// token's rights), kept in sessionStorage only, and a session the server ends says why on the
// sign-in page.
import { fieldError, TiesApiError } from './api.js';
import { byId } from './dom-helpers.js';
import { state } from './explorer-state.js';
import { clearErrors, showError } from './form-errors.js';
import { probeRights, SESSION_ENDED, sessionClient } from './session.js';

/** sessionStorage only: the token leaves with the tab, and never reaches localStorage or a cookie. */
const TOKEN_KEY = 'ties.explorer.token';

export interface SignInHooks {
  /** The token's rights are known: show only what they allow. */
  applyRights(): void;
  /** Signed in, session state loaded: draw the main view (the token for what cannot send a header). */
  onSignedIn(token: string): void;
  /** The session ended: drop the selection. */
  onSignedOut(): void;
}

export function initSignIn(hooks: SignInHooks): void {
  const signinForm = byId<HTMLFormElement>('signin-form');
  const tokenInput = byId<HTMLInputElement>('token');

  async function signIn(token: string): Promise<void> {
    const candidate = sessionClient(token, sessionEnded);
    const [typeList, dbList, tokenRights] = await Promise.all([
      candidate.relations.types.list(),
      candidate.databases.list({ limit: 1000 }),
      probeRights(candidate),
    ]);
    state.api = candidate;
    state.rights = tokenRights;
    hooks.applyRights();
    byId('signin-reason').hidden = true;
    sessionStorage.setItem(TOKEN_KEY, token);
    state.types = [...typeList.data];
    state.dbNames.clear();
    for (const d of dbList.data) state.dbNames.set(d.id, d.name);
    document.body.dataset.signedIn = 'true';
    const { rights, types } = state;
    const can = rights.admin ? 'read, write, admin' : rights.write ? 'read and write' : 'read only';
    byId('signed-in-as').textContent =
      `Signed in (${can}) · ${types.length} relation type${types.length === 1 ? '' : 's'}`;
    hooks.onSignedIn(token);
  }

  /** The server stopped accepting the token: back to sign-in, saying why. */
  function sessionEnded(): void {
    if (!state.api) return;
    sessionStorage.removeItem(TOKEN_KEY);
    state.api = undefined;
    hooks.onSignedOut();
    document.body.dataset.signedIn = 'false';
    const note = byId('signin-reason');
    note.textContent = SESSION_ENDED;
    note.hidden = false;
    note.focus();
  }

  function signOut(): void {
    sessionStorage.removeItem(TOKEN_KEY);
    state.api = undefined;
    location.reload();
  }

  signinForm.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearErrors(signinForm);
    const token = tokenInput.value.trim();
    try {
      await signIn(token);
      tokenInput.value = '';
      // The sign-in form is gone: the keyboard continues at the search.
      byId('find-type').focus();
    } catch (err) {
      showError(
        signinForm,
        err instanceof TiesApiError && err.param !== 'token'
          ? fieldError(`token: ${err.errorText}`, err.call)
          : err,
      );
    }
  });
  byId('signout').addEventListener('click', signOut);

  // A token kept from earlier in this tab signs in again (after a reload).
  const saved = sessionStorage.getItem(TOKEN_KEY);
  if (saved) {
    signIn(saved).catch(() => {
      sessionStorage.removeItem(TOKEN_KEY);
      document.body.dataset.signedIn = 'false';
    });
  } else {
    document.body.dataset.signedIn = 'false';
  }
}
