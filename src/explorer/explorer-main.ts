// The Explorer's entry point: sign-in, the relation-type and profile search, and the wiring between
// the graph, the paged table, the counter chart, the change form and the admin view.
import { renderAdmin } from './admin-view.js';
import {
  type CounterAnswer,
  errorText,
  fieldError,
  type ProfileRef,
  type RelationType,
  TiesApiError,
  type TiesClient,
} from './api.js';
import { renderCounter } from './counter-chart.js';
import { byId, clear, h, say } from './dom-helpers.js';
import { clearErrors, showError } from './form-errors.js';
import { GraphView, INCOMING_COLOUR, OUTGOING_COLOUR } from './graph-view.js';
import { Labels, profileLabel } from './labels.js';
import { matchingFields } from './matching-fields.js';
import { RelationForm } from './relation-form.js';
import { RelationsTable } from './relations-table.js';
import { probeRights, type Rights, SESSION_ENDED, sessionClient } from './session.js';

/** sessionStorage only: the token leaves with the tab, and never reaches localStorage or a cookie. */
const TOKEN_KEY = 'ties.explorer.token';
/** Relations drawn per direction and profile; the table pages through all of them. */
const GRAPH_LIMIT = 200;

declare global {
  interface Window {
    /** For the curious and for the browser tests: the live graph and state. */
    tiesExplorer?: {
      readonly graph: GraphView | undefined;
      readonly focal: ProfileRef | undefined;
      /** Loads in flight (profile opening, refresh after a change); 0 when the views are settled. */
      readonly busy: number;
    };
  }
}

let api: TiesClient | undefined;
let rights: Rights = { write: false, admin: false };
let types: RelationType[] = [];
const dbNames = new Map<number, string>();
let focal: ProfileRef | undefined;
let graph: GraphView | undefined;
let lastCounter: CounterAnswer | undefined;
let busy = 0;

/**
 * Counts a load in flight, so that tests (and curious users) can wait for settled views, and shows
 * it: the panels are aria-busy, the status says what is loading, the search cannot be sent twice.
 */
async function tracked<T>(work: () => Promise<T>, what = 'Loading…'): Promise<T> {
  // Only the first load in flight shows progress and the last one ends it: a nested load must not
  // overwrite what an inner one has just said (e.g. "200 of 100000 incoming").
  if (busy++ === 0) showBusy(what);
  try {
    return await work();
  } finally {
    if (--busy === 0) showBusy(what);
  }
}

function showBusy(what: string): void {
  const loading = busy > 0;
  const panels = byId('panels');
  const submit = byId<HTMLButtonElement>('find-submit');
  if (loading) {
    panels.setAttribute('aria-busy', 'true');
    submit.disabled = true;
    if (graphStatus.dataset.kind !== 'busy') {
      clear(graphStatus);
      graphStatus.append(h('span', { class: 'spinner', 'aria-hidden': 'true' }), what);
      graphStatus.dataset.kind = 'busy';
    }
  } else {
    panels.removeAttribute('aria-busy');
    submit.disabled = false;
    if (graphStatus.dataset.kind === 'busy') say(graphStatus, '');
  }
}

const labels = new Labels(
  () => callApi(),
  (ids) => onLabels(ids),
);
const requestLabels = (profiles: readonly ProfileRef[]) => labels.request(profiles);

const callApi = (): TiesClient => {
  if (!api) throw new Error('token: sign in first');
  return api;
};
const labelOf = (id: string) => labels.of(id);
const dbName = (id: number) => `${dbNames.get(id) ?? 'database'} (${id})`;
const selectedType = (): RelationType | undefined =>
  types.find((t) => String(t.rel_id) === byId<HTMLSelectElement>('find-type').value);

// --- elements ----------------------------------------------------------------------------------

const signinForm = byId<HTMLFormElement>('signin-form');
const tokenInput = byId<HTMLInputElement>('token');
const findForm = byId<HTMLFormElement>('find-form');
const findMatching = matchingFields('find', '');
byId('find-profile').append(findMatching.element);
const graphStatus = byId('graph-status');
const widthSelect = byId<HTMLSelectElement>('width-property');
const counterRoot = byId('counter');

const table = new RelationsTable(byId('table-root'), {
  api: callApi,
  labelOf,
  onOpen: (p) => void openProfile(p),
  onChange: (row) => changeForm.editRow(row),
  onRows: (profiles) => requestLabels(profiles),
  dbName,
});

const changeForm = new RelationForm(byId<HTMLFormElement>('change-form'), {
  api: callApi,
  dbName,
  labelOf,
  onDone: (change) => afterChange(change.profileA, change.profileB),
  currentOf: (a, b) => table.currentOf(a, b),
});

// --- sign-in -----------------------------------------------------------------------------------

async function signIn(token: string): Promise<void> {
  const candidate = sessionClient(token, sessionEnded);
  const [typeList, dbList, tokenRights] = await Promise.all([
    candidate.relations.types.list(),
    candidate.databases.list({ limit: 1000 }),
    probeRights(candidate),
  ]);
  api = candidate;
  rights = tokenRights;
  applyRights();
  byId('signin-reason').hidden = true;
  sessionStorage.setItem(TOKEN_KEY, token);
  types = [...typeList.data];
  dbNames.clear();
  for (const d of dbList.data) dbNames.set(d.id, d.name);
  document.body.dataset.signedIn = 'true';
  const can = rights.admin ? 'read, write, admin' : rights.write ? 'read and write' : 'read only';
  byId('signed-in-as').textContent =
    `Signed in (${can}) · ${types.length} relation type${types.length === 1 ? '' : 's'}`;
  populateTypes();
  showView('relations');
}

/** Shows only what the token may do: no change form or Change… buttons without the write right. */
function applyRights(): void {
  byId('change-form').hidden = !rights.write;
  byId('change-readonly').hidden = rights.write;
  table.canChange = rights.write;
}

/** The server stopped accepting the token: back to sign-in, saying why. */
function sessionEnded(): void {
  if (!api) return;
  sessionStorage.removeItem(TOKEN_KEY);
  api = undefined;
  endSession(SESSION_ENDED);
}

function endSession(reason: string): void {
  clearSelection();
  document.body.dataset.signedIn = 'false';
  const note = byId('signin-reason');
  note.textContent = reason;
  note.hidden = false;
  note.focus();
}

function signOut(): void {
  sessionStorage.removeItem(TOKEN_KEY);
  api = undefined;
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

// --- views -------------------------------------------------------------------------------------

function showView(name: 'relations' | 'admin'): void {
  if (!api) return;
  for (const button of document.querySelectorAll<HTMLButtonElement>('#views button')) {
    const active = button.dataset.view === name;
    if (active) button.setAttribute('aria-current', 'page');
    else button.removeAttribute('aria-current');
  }
  byId('view-relations').hidden = name !== 'relations';
  byId('view-admin').hidden = name !== 'admin';
  if (name === 'relations') {
    ensureGraph();
    graph!.cy.resize();
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
    showView(button.dataset.view as 'relations' | 'admin');
    byId(`${button.dataset.view}-heading`).focus();
  });
}

function ensureGraph(): void {
  if (graph) return;
  graph = new GraphView(byId('graph'), { onSelect: (p) => void openProfile(p) });
  window.tiesExplorer = {
    get graph() {
      return graph;
    },
    get focal() {
      return focal;
    },
    get busy() {
      return busy + labels.busy;
    },
  };
}

// --- relation type -----------------------------------------------------------------------------

function populateTypes(): void {
  const select = byId<HTMLSelectElement>('find-type');
  clear(select);
  for (const t of types) {
    select.append(
      h(
        'option',
        { value: t.rel_id },
        `${t.name} (rel_id ${t.rel_id}): ${dbName(t.db_b)} → ${dbName(t.db_a)}`,
      ),
    );
  }
  if (types.length === 0) select.append(h('option', { value: '' }, 'No relation types yet (see Admin)'));
  onTypeChange();
}

/**
 * No profile selected: every panel drops what it showed of the previous one (the one selection
 * drives the graph, the table, the chart and the form; none keeps a profile of its own).
 */
function clearSelection(): void {
  focal = undefined;
  graph?.reset();
  lastCounter = undefined;
  clear(counterRoot);
  counterRoot.append(h('p', { class: 'muted' }, 'Find a profile to see its aggregates.'));
  if (busy === 0) say(graphStatus, 'Find a profile to draw its relations.');
  byId('table-title').textContent = 'Relations';
  byId('counter-title').textContent = 'Aggregates';
  table.clear(selectedType());
  changeForm.reset();
}

function onTypeChange(): void {
  const type = selectedType();
  clearSelection();
  if (!type) return;
  changeForm.setType(type);
  table.clear(type);
  clear(widthSelect);
  widthSelect.append(h('option', { value: '' }, '(same width)'));
  const numeric = type.properties.filter((p) => p.type === 'int' || p.type === 'float');
  for (const p of numeric) widthSelect.append(h('option', { value: p.name }, p.name));
  widthSelect.value = numeric[0]?.name ?? '';
  graph?.setWidthProperty(widthSelect.value || undefined);
  renderLegend(type);
}

byId('find-type').addEventListener('change', onTypeChange);
widthSelect.addEventListener('change', () => graph?.setWidthProperty(widthSelect.value || undefined));

function renderLegend(type: RelationType): void {
  const legend = byId('legend');
  clear(legend);
  const swatch = (colour: string, shape: 'line' | 'dashed' | 'dot') => {
    const el = h('span', { class: `swatch ${shape}`, 'aria-hidden': 'true' });
    if (shape === 'dot') el.style.backgroundColor = colour;
    else el.style.borderTopColor = colour;
    return el;
  };
  ensureGraph();
  const dbs = [...new Set([type.db_a, type.db_b])];
  legend.append(
    h('li', {}, swatch(INCOMING_COLOUR, 'line'), 'incoming: to the selected profile (it is A)'),
    h('li', {}, swatch(OUTGOING_COLOUR, 'dashed'), 'outgoing: from the selected profile (it is B)'),
    h('li', {}, swatch('#9ca3af', 'line'), 'between other profiles; arrows point B → A'),
    ...dbs.map((db) => h('li', {}, swatch(graph!.colourOf(db), 'dot'), `profile in ${dbName(db)}`)),
  );
}

// --- finding and opening profiles ----------------------------------------------------------------

findForm.addEventListener('submit', (event) => {
  event.preventDefault();
  void tracked(findProfile, 'Finding the profile…');
});

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
      await openProfile({ id: found.data.id, db }, true);
      return;
    } catch (err) {
      // A profile of the other database is looked for there before giving up; a 404 is only
      // reported when no database has the profile, any other error as it came.
      if (!(err instanceof TiesApiError) || err.code >= 500) {
        clearSelection();
        showError(findForm, err);
        return;
      }
      if (!firstError || (firstError instanceof TiesApiError && firstError.code === 404 && err.code !== 404))
        firstError = err;
    }
  }
  // A failed search selects nothing: the previous profile's views go (they would answer for it).
  clearSelection();
  showError(findForm, firstError);
}

/** Selects a profile: draws its relations (both directions), lists them and charts its counter. */
function openProfile(profile: ProfileRef, fresh = false): Promise<void> {
  return tracked(() => drawProfile(profile, fresh));
}

async function drawProfile(profile: ProfileRef, fresh: boolean): Promise<void> {
  const type = selectedType();
  if (!type) return;
  ensureGraph();
  const g = graph!;
  if (fresh) g.reset();
  g.addProfile(profile, labelOf(profile.id));
  focal = profile;
  try {
    if (!g.isExpanded(profile.id)) await expand(type, profile);
  } catch (err) {
    say(graphStatus, errorText(err), 'error');
  }
  g.setFocal(profile.id);
  g.updateWidths();
  g.layout();
  byId('table-title').textContent = `Relations of ${labelOf(profile.id)}`;
  await Promise.all([table.show(type, profile), loadCounter(type, profile)]);
  changeForm.fill(
    profile.db === type.db_a
      ? { a: { matching: 'profile_id', profile_id: profile.id } }
      : { b: { matching: 'profile_id', profile_id: profile.id } },
  );
  requestLabels([profile]);
}

/** Loads a profile's relations into the graph: as A when it is in db_a, as B when in db_b. */
async function expand(type: RelationType, profile: ProfileRef): Promise<void> {
  const g = graph!;
  const sides = (['a', 'b'] as const).filter((s) => profile.db === (s === 'a' ? type.db_a : type.db_b));
  const answers = await Promise.all(
    sides.map((side) =>
      callApi().relations.get({
        rel_id: type.rel_id,
        profile_id: profile.id,
        limit: GRAPH_LIMIT,
        ...(side === 'b' ? { side } : {}),
      }),
    ),
  );
  const parts: string[] = [];
  const seen: ProfileRef[] = [];
  answers.forEach((answer, i) => {
    const side = sides[i]!;
    g.addRelations(profile, side, answer.data, labelOf);
    for (const r of answer.data)
      seen.push(
        side === 'a'
          ? { id: r.profile_id_b, db: r.db_b ?? type.db_b }
          : { id: r.profile_id_a, db: r.db_a ?? type.db_a },
      );
    const shown =
      answer.data.length < answer.total_count
        ? `${answer.data.length} of ${answer.total_count}`
        : String(answer.total_count);
    parts.push(`${shown} ${side === 'a' ? 'incoming' : 'outgoing'}`);
  });
  g.markExpanded(profile.id);
  requestLabels(seen);
  say(graphStatus, `${labelOf(profile.id)}: ${parts.join(', ')}. Click a profile to expand it.`);
}

async function loadCounter(type: RelationType, profile: ProfileRef): Promise<void> {
  byId('counter-title').textContent = `Aggregates of ${labelOf(profile.id)}`;
  if (profile.db !== type.db_a) {
    lastCounter = undefined;
    clear(counterRoot);
    counterRoot.append(
      h(
        'p',
        { class: 'muted' },
        `get_counter aggregates the relations a profile receives (as A, in ${dbName(type.db_a)}); this profile is in ${dbName(profile.db)}.`,
      ),
    );
    return;
  }
  try {
    lastCounter = await callApi().relations.getCounter({ rel_id: type.rel_id, profile_id: profile.id });
    if (focal?.id === profile.id) renderCounter(counterRoot, type, lastCounter, labelOf);
  } catch (err) {
    clear(counterRoot);
    counterRoot.append(h('p', { class: 'field-error', role: 'alert' }, errorText(err)));
  }
}

/** After a change: reload the relations of the two profiles where the graph shows them. */
function afterChange(profileA: string, profileB: string): Promise<void> {
  return tracked(() => redrawAfterChange(profileA, profileB));
}

async function redrawAfterChange(profileA: string, profileB: string): Promise<void> {
  const type = selectedType();
  const g = graph;
  if (!type || !g) return;
  for (const [id, db] of [
    [profileA, type.db_a],
    [profileB, type.db_b],
  ] as const) {
    if (g.isExpanded(id) || (focal?.id === id && g.cy.getElementById(id).nonempty())) {
      g.dropEdgesOf(id);
      g.collapse(id);
      await expand(type, { id, db }).catch(() => undefined);
    }
  }
  // A neighbour left without any relation drawn (after a detach) goes too.
  g.cy
    .nodes()
    .filter((n) => n.degree(false) === 0 && n.id() !== focal?.id && n.data('expanded') !== true)
    .remove();
  if (focal) g.setFocal(focal.id);
  g.updateWidths();
  g.layout();
  await table.refresh();
  if (focal) await loadCounter(type, focal);
}

// --- labels ------------------------------------------------------------------------------------

/** Names arrived: redraw what shows ids. */
function onLabels(ids: readonly string[]): void {
  for (const id of ids) graph?.setLabel(id, labelOf(id));
  table.render();
  const type = selectedType();
  if (focal) byId('table-title').textContent = `Relations of ${labelOf(focal.id)}`;
  if (type && focal && lastCounter && lastCounter.data.profile_id === focal.id) {
    renderCounter(counterRoot, type, lastCounter, labelOf);
    byId('counter-title').textContent = `Aggregates of ${labelOf(focal.id)}`;
  }
}

// --- start -------------------------------------------------------------------------------------

const saved = sessionStorage.getItem(TOKEN_KEY);
if (saved) {
  signIn(saved).catch(() => {
    sessionStorage.removeItem(TOKEN_KEY);
    document.body.dataset.signedIn = 'false';
  });
} else {
  document.body.dataset.signedIn = 'false';
}
document.body.dataset.ready = 'true';
