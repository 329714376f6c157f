// The one selection and the panels it drives: opening a profile draws its relations (both
// directions) in the graph, lists them in the table, charts its counter and fills the change form;
// clearing it empties every panel; a change or newly arrived names redraw what they touch.
import { errorText, type Profile, type ProfileRef, type RelationType } from './api.js';
import type { Props } from './change-preview.js';
import { renderCounter } from './counter-chart.js';
import { byId, clear, h, say } from './dom-helpers.js';
import { callApi, dbName, selectedType, state } from './explorer-state.js';
import { attachGraphKeys } from './graph-keys.js';
import { type Fetched, GraphNeighbours } from './graph-neighbours.js';
import { GraphView } from './graph-view.js';
import type { InspectedRelation, Inspector } from './inspector.js';
import type { Labels } from './labels.js';
import { loadsInFlight, tracked } from './progress.js';
import type { RelationForm } from './relation-form.js';
import type { RelationsTable } from './relations-table.js';

declare global {
  interface Window {
    /** For the curious and for the browser tests: the live graph and state. */
    tiesExplorer?: {
      readonly graph: GraphView | undefined;
      readonly focal: ProfileRef | undefined;
      /** Loads in flight (profile opening, refresh after a change, names); 0 when settled. */
      readonly busy: number;
    };
  }
}

export interface SelectionPanels {
  readonly table: RelationsTable;
  readonly form: RelationForm;
  readonly labels: Labels;
  readonly inspector: Inspector;
}

/** The relation an edge draws: from B (its source) to A (its target). */
export function relationOfEdge(edge: cytoscape.EdgeSingular): InspectedRelation {
  const ref = (n: cytoscape.NodeSingular) => ({ id: n.id(), db: n.data('db') as number });
  return { a: ref(edge.target()), b: ref(edge.source()), props: edge.data('props') ?? {} };
}

export class Selection {
  /** Made on first use: Cytoscape measures its container, which must be on screen. */
  graph: GraphView | undefined;
  private readonly graphStatus = byId('graph-status');
  private readonly counterRoot = byId('counter');
  /** Which relations the graph draws: the strongest N, and "Show more". */
  private readonly neighbours: GraphNeighbours;

  /** Called when the selected profile changes or goes (the deep link follows it). */
  onChange: () => void = () => {};
  /** Called when a new drawing ranks by another property ("Strongest by" shows it). */
  onRank: (name: string) => void = () => {};

  constructor(private readonly panels: SelectionPanels) {
    this.neighbours = new GraphNeighbours(
      () => this.ensureGraph(),
      panels.labels,
      this.graphStatus,
      (name) => this.onRank(name),
    );
    this.graphStatus.after(this.neighbours.moreButton);
    this.neighbours.moreButton.addEventListener('click', () => void tracked(() => this.showMore()));
    // The user's zoom and pan are kept through resizes and redraws until they ask for a fit here.
    byId('graph-fit').addEventListener('click', () => this.graph?.viewport.fit());
  }

  /** The next strongest relations of the selected profile, placed around it; nothing else moves. */
  private async showMore(): Promise<void> {
    const g = this.ensureGraph();
    await this.neighbours.more().catch((err) => say(this.graphStatus, errorText(err), 'error'));
    if (state.focal) g.setFocal(state.focal.id);
    g.updateWidths();
    g.layout();
  }

  /** The property the graph ranks and widens edges by; `chosen` when the user picked it. */
  setRank(name: string | undefined, chosen: boolean): void {
    this.neighbours.setRank(name, chosen);
  }

  ensureGraph(): GraphView {
    if (this.graph) return this.graph;
    const graph = new GraphView(byId('graph'), { onSelect: (p) => void this.open(p) });
    this.graph = graph;
    // The inspected element stands out (added to the graph's own styles).
    graph.cy
      .style()
      .selector('.inspected')
      .style({ 'overlay-color': '#facc15', 'overlay-opacity': 0.35, 'overlay-padding': 6 })
      .update();
    graph.cy.on('tap', 'edge', (event) => this.inspectEdge(event.target as cytoscape.EdgeSingular));
    const inspector = this.panels.inspector;
    attachGraphKeys(byId('graph'), graph, {
      onEdge: (edge, position) => {
        this.inspectEdge(edge);
        inspector.announce(`Relation ${position}.`);
      },
      onHome: () => {
        if (state.focal) this.inspectProfile(state.focal);
      },
      onEnter: () => inspector.focus(),
      currentEdgeId: () => {
        const shown = inspector.inspected;
        return shown?.kind === 'relation' ? edgeId(shown.relation) : undefined;
      },
    });
    const labels = this.panels.labels;
    window.tiesExplorer = {
      graph,
      get focal() {
        return state.focal;
      },
      get busy() {
        return loadsInFlight() + labels.busy;
      },
    };
    return graph;
  }

  /**
   * No profile selected: every panel drops what it showed of the previous one (the one selection
   * drives the graph, the table, the chart and the form; none keeps a profile of its own).
   */
  clear(): void {
    state.focal = undefined;
    this.graph?.reset();
    this.neighbours.reset();
    state.lastCounter = undefined;
    clear(this.counterRoot);
    this.counterRoot.append(h('p', { class: 'muted' }, 'Find a profile to see its aggregates.'));
    if (loadsInFlight() === 0) say(this.graphStatus, 'Find a profile to draw its relations.');
    byId('table-title').textContent = 'Relations';
    byId('counter-title').textContent = 'Aggregates';
    this.panels.table.clear(selectedType());
    this.panels.form.reset();
    this.panels.inspector.clear();
    this.onChange();
  }

  /** Shows a relation of the graph in the inspector and marks it. */
  inspectEdge(edge: cytoscape.EdgeSingular): void {
    this.mark(edge);
    this.panels.inspector.showRelation(relationOfEdge(edge));
  }

  /** Shows a profile in the inspector and marks its node. */
  inspectProfile(profile: ProfileRef, data?: Profile): Promise<void> {
    this.mark(this.graph?.cy.getElementById(profile.id));
    return this.panels.inspector.showProfile(profile, data);
  }

  /** The values of a relation the graph draws (for "current → new" beyond the table's page). */
  valuesOf(profileA: string, profileB: string): Props | undefined {
    const edge = this.graph?.cy.getElementById(`${profileB}->${profileA}`);
    return edge?.nonempty() ? (edge.data('props') as Props) : undefined;
  }

  private mark(element: cytoscape.CollectionReturnValue | cytoscape.EdgeSingular | undefined): void {
    this.graph?.cy.elements('.inspected').removeClass('inspected');
    element?.addClass('inspected');
  }

  /**
   * Selects a profile: draws its relations (both directions), lists them, charts its counter and
   * inspects it (`data`: its profiles/get answer when the caller has it).
   */
  open(profile: ProfileRef, fresh = false, data?: Profile): Promise<void> {
    return tracked(() => this.draw(profile, fresh, data));
  }

  /** After a change: reload the relations of the two profiles where the graph shows them. */
  afterChange(profileA: string, profileB: string): Promise<void> {
    return tracked(() => this.redrawAfterChange(profileA, profileB));
  }

  /** Names arrived: redraw what shows ids. */
  onLabels(ids: readonly string[]): void {
    const labelOf = (id: string) => this.panels.labels.of(id);
    for (const id of ids) this.graph?.setLabel(id, labelOf(id));
    this.panels.table.render();
    const type = selectedType();
    this.panels.inspector.render();
    const { focal, lastCounter } = state;
    if (focal) byId('table-title').textContent = `Relations of ${labelOf(focal.id)}`;
    if (type && focal && lastCounter && lastCounter.data.profile_id === focal.id) {
      renderCounter(this.counterRoot, type, lastCounter, labelOf);
      byId('counter-title').textContent = `Aggregates of ${labelOf(focal.id)}`;
    }
  }

  private async draw(profile: ProfileRef, fresh: boolean, data?: Profile): Promise<void> {
    const type = selectedType();
    if (!type) return;
    const { table, form, labels } = this.panels;
    const g = this.ensureGraph();
    // The selected profile drawn afresh (a live refresh, another "Strongest by"): its relations are
    // read before the old drawing goes, and as many as the user had shown are read again.
    const again = fresh && state.focal?.id === profile.id && g.isExpanded(profile.id);
    let fetched: Fetched | undefined;
    if (again)
      fetched = await this.neighbours.fetch(type, profile).catch((err: unknown) => {
        say(this.graphStatus, errorText(err), 'error');
        return undefined;
      });
    if (fresh) {
      g.reset();
      this.neighbours.reset();
    }
    g.addProfile(profile, labels.of(profile.id));
    state.focal = profile;
    this.onChange();
    try {
      if (fetched) this.neighbours.apply(fetched);
      else if (!g.isExpanded(profile.id)) await this.neighbours.expand(type, profile);
      else this.neighbours.select(profile.id);
    } catch (err) {
      say(this.graphStatus, errorText(err), 'error');
    }
    g.setFocal(profile.id);
    g.updateWidths();
    g.layout();
    byId('table-title').textContent = `Relations of ${labels.of(profile.id)}`;
    await Promise.all([table.show(type, profile), this.loadCounter(type, profile)]);
    form.fill(
      profile.db === type.db_a
        ? { a: { matching: 'profile_id', profile_id: profile.id } }
        : { b: { matching: 'profile_id', profile_id: profile.id } },
    );
    labels.request([profile]);
    await this.inspectProfile(profile, data);
  }

  private async loadCounter(type: RelationType, profile: ProfileRef): Promise<void> {
    const labelOf = (id: string) => this.panels.labels.of(id);
    const root = this.counterRoot;
    byId('counter-title').textContent = `Aggregates of ${labelOf(profile.id)}`;
    if (profile.db !== type.db_a) {
      state.lastCounter = undefined;
      clear(root);
      root.append(
        h(
          'p',
          { class: 'muted' },
          `get_counter aggregates the relations a profile receives (as A, in ${dbName(type.db_a)}); this profile is in ${dbName(profile.db)}.`,
        ),
      );
      return;
    }
    try {
      state.lastCounter = await callApi().relations.getCounter({
        rel_id: type.rel_id,
        profile_id: profile.id,
      });
      if (state.focal?.id === profile.id) renderCounter(root, type, state.lastCounter, labelOf);
    } catch (err) {
      clear(root);
      root.append(h('p', { class: 'field-error', role: 'alert' }, errorText(err)));
    }
  }

  /** After a change: the inspected relation shows its new values, or says it is gone. */
  private reinspect(g: GraphView): void {
    const shown = this.panels.inspector.inspected;
    if (shown?.kind !== 'relation') return;
    const edge = g.cy.getElementById(edgeId(shown.relation));
    if (edge.nonempty()) this.inspectEdge(edge);
    else this.panels.inspector.gone('The relation shown is gone (detached).');
  }

  private async redrawAfterChange(profileA: string, profileB: string): Promise<void> {
    const type = selectedType();
    const g = this.graph;
    if (!type || !g) return;
    const focal = () => state.focal;
    // Both profiles are read before anything is redrawn: the old drawing stays on screen until the
    // new one replaces it in one step.
    const reread = [
      { id: profileA, db: type.db_a },
      { id: profileB, db: type.db_b },
    ].filter(({ id }) => g.isExpanded(id) || (focal()?.id === id && g.cy.getElementById(id).nonempty()));
    const fetched = await Promise.all(
      reread.map((p) =>
        this.neighbours.fetch(type, p).catch(() => {
          // Not read again: selecting it later loads it.
          g.collapse(p.id);
          return undefined;
        }),
      ),
    );
    for (const f of fetched) if (f) this.neighbours.apply(f, true);
    // A neighbour left without any relation drawn (after a detach) goes too.
    g.cy
      .nodes()
      .filter((n) => n.degree(false) === 0 && n.id() !== focal()?.id && n.data('expanded') !== true)
      .remove();
    const shown = focal();
    if (shown) g.setFocal(shown.id);
    g.updateWidths();
    g.layout(false);
    this.reinspect(g);
    await this.panels.table.refresh();
    // Read again: the selection may have moved while the table reloaded.
    const after = focal();
    if (after) await this.loadCounter(type, after);
  }
}

const edgeId = (r: InspectedRelation) => `${r.b.id}->${r.a.id}`;
