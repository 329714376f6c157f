// The Explorer's entry point: makes the panels (names, table, change form, the selection that drives
// the graph and the counter) and wires them to sign-in, the relation-type choice, the profile search
// and the views. What each part does lives in its own module.
import { DeepLink } from './deep-link.js';
import { byId } from './dom-helpers.js';
import { callApi, dbName, selectedType, state } from './explorer-state.js';
import { Inspector } from './inspector.js';
import { Labels } from './labels.js';
import { initLiveUpdates } from './live-updates.js';
import { initProfileSearch } from './profile-search.js';
import { RelationForm } from './relation-form.js';
import { RelationsTable } from './relations-table.js';
import { Selection } from './selection.js';
import { initSignIn } from './sign-in.js';
import { TypePicker } from './type-picker.js';
import { initViews } from './views.js';

const labels = new Labels(callApi, (ids) => selection.onLabels(ids));
const labelOf = (id: string) => labels.of(id);

const table = new RelationsTable(byId('table-root'), {
  api: callApi,
  labelOf,
  // The clicked name is redrawn away: the keyboard continues at the inspector, which shows it.
  onOpen: (p) => void selection.open(p).then(() => inspector.focus()),
  onChange: (row) => form.editRow(row),
  onRows: (profiles) => labels.request(profiles),
  dbName,
});

const form: RelationForm = new RelationForm(byId<HTMLFormElement>('change-form'), {
  api: callApi,
  dbName,
  labelOf,
  onDone: (change) => selection.afterChange(change.profileA, change.profileB),
  currentOf: (a, b) => table.currentOf(a, b) ?? selection.valuesOf(a, b),
});

const inspector: Inspector = new Inspector(byId('inspector'), {
  api: callApi,
  labelOf,
  dbName,
  type: selectedType,
  focalId: () => state.focal?.id,
  canWrite: () => state.rights.write,
  onOpen: (p) => void selection.open(p).then(() => inspector.focus()),
  onChange: (r) => form.editRelation(r.a.id, r.b.id, r.props),
  onDetach: (r) => form.detachRelation(r.a.id, r.b.id),
});

const selection: Selection = new Selection({ table, form, labels, inspector });
const types = new TypePicker(selection, form, table);
initProfileSearch(selection, labels);
const showView = initViews(selection);
const live = initLiveUpdates(selection, table);
const link = new DeepLink(selection, types);
selection.onChange = () => link.changed();

initSignIn({
  /** Shows only what the token may do: no change form or Change… buttons without the write right. */
  applyRights() {
    byId('change-form').hidden = !state.rights.write;
    byId('change-readonly').hidden = state.rights.write;
    table.canChange = state.rights.write;
    inspector.render();
  },
  onSignedIn(token) {
    void link.follow(() => {
      types.populate();
      showView('relations');
    });
    live.start(token);
  },
  onSignedOut() {
    live.stop();
    selection.clear();
  },
});
document.body.dataset.ready = 'true';
