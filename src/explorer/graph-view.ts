// The relation graph (Cytoscape.js, loaded from Ties itself as window.cytoscape): profiles as nodes,
// relations as arrows from initiator B to recipient A, coloured by direction relative to the
// selected profile, and as wide as a chosen numeric property.
import type { ProfileRef, PropValue, RelationRow } from './api.js';

/** Node colours by database, in order of appearance; readable on white and distinct in greyscale. */
const DB_COLOURS = ['#0f766e', '#7c3aed', '#b45309', '#be185d', '#1d4ed8', '#4d7c0f'] as const;
export const INCOMING_COLOUR = '#2563eb';
export const OUTGOING_COLOUR = '#ea580c';
const OTHER_COLOUR = '#9ca3af';
const MIN_WIDTH = 1.5;
const MAX_WIDTH = 10;
/** A few profiles would otherwise be fitted to giant circles. */
const MAX_FIT_ZOOM = 1.25;

export interface GraphOptions {
  /** A node was clicked (or tapped): select it and load its relations. */
  readonly onSelect: (profile: ProfileRef) => void;
}

export class GraphView {
  readonly cy: cytoscape.Core;
  private focalId: string | undefined;
  private widthProperty: string | undefined;
  private readonly dbColours = new Map<number, string>();

  constructor(container: HTMLElement, options: GraphOptions) {
    this.cy = cytoscape({
      container,
      elements: [],
      minZoom: 0.2,
      maxZoom: 3,
      boxSelectionEnabled: false,
      style: [
        {
          selector: 'node',
          style: {
            label: 'data(label)',
            'background-color': 'data(colour)',
            color: '#111827',
            'font-size': 11,
            'text-valign': 'bottom',
            'text-margin-y': 4,
            'text-background-color': '#ffffff',
            'text-background-opacity': 0.85,
            'text-background-padding': '2px',
            width: 26,
            height: 26,
            'border-width': 2,
            'border-color': '#ffffff',
          },
        },
        { selector: 'node[?expanded]', style: { 'border-color': '#111827', 'border-width': 2 } },
        {
          selector: 'node.focal',
          style: {
            width: 40,
            height: 40,
            'border-width': 5,
            'border-color': '#facc15',
            'font-weight': 'bold',
          },
        },
        {
          selector: 'edge',
          style: {
            width: 'data(w)',
            'curve-style': 'bezier',
            'line-color': OTHER_COLOUR,
            'target-arrow-color': OTHER_COLOUR,
            'target-arrow-shape': 'triangle',
            'arrow-scale': 0.8,
            opacity: 0.9,
          },
        },
        {
          selector: 'edge.incoming',
          style: { 'line-color': INCOMING_COLOUR, 'target-arrow-color': INCOMING_COLOUR },
        },
        {
          selector: 'edge.outgoing',
          style: {
            'line-color': OUTGOING_COLOUR,
            'target-arrow-color': OUTGOING_COLOUR,
            'line-style': 'dashed',
          },
        },
      ],
    });
    // Cytoscape sizes its canvas once; a phone turned sideways or a narrower window must not
    // leave it wider than its box.
    new ResizeObserver(() => {
      this.cy.resize();
      this.fit();
    }).observe(container);
    this.cy.on('tap', 'node', (event) => {
      const node = event.target as cytoscape.NodeSingular;
      options.onSelect({ id: node.id(), db: node.data('db') as number });
    });
  }

  /** Empties the graph for a new relation type or a new search. */
  reset(): void {
    this.cy.elements().remove();
    this.focalId = undefined;
  }

  /** The colour of a database's nodes (also used by the legend). */
  colourOf(db: number): string {
    let colour = this.dbColours.get(db);
    if (!colour) {
      colour = DB_COLOURS[this.dbColours.size % DB_COLOURS.length]!;
      this.dbColours.set(db, colour);
    }
    return colour;
  }

  addProfile(profile: ProfileRef, label: string): void {
    if (this.cy.getElementById(profile.id).nonempty()) return;
    this.cy.add({
      group: 'nodes',
      data: { id: profile.id, db: profile.db, label, colour: this.colourOf(profile.db), expanded: false },
    });
  }

  isExpanded(id: string): boolean {
    return this.cy.getElementById(id).data('expanded') === true;
  }

  /**
   * Adds one direction of a profile's relations: rows of relations/get (side a: `profile` is A,
   * the neighbours are B; side b: `profile` is B, the neighbours are A).
   */
  addRelations(
    profile: ProfileRef,
    side: 'a' | 'b',
    rows: readonly RelationRow[],
    labelOf: (id: string) => string,
  ) {
    for (const row of rows) {
      const neighbour =
        side === 'a'
          ? { id: row.profile_id_b, db: row.db_b ?? profile.db }
          : { id: row.profile_id_a, db: row.db_a ?? profile.db };
      this.addProfile(neighbour, labelOf(neighbour.id));
      const id = `${row.profile_id_b}->${row.profile_id_a}`;
      const props = Object.fromEntries(Object.entries(row.props).map(([k, v]) => [k, v.value]));
      const existing = this.cy.getElementById(id);
      if (existing.nonempty()) existing.data('props', props);
      else
        this.cy.add({
          group: 'edges',
          data: { id, source: row.profile_id_b, target: row.profile_id_a, props, w: MIN_WIDTH },
        });
    }
  }

  markExpanded(id: string): void {
    this.cy.getElementById(id).data('expanded', true);
  }

  /** Forgets a node's loaded relations (after a change), so that selecting it reloads them. */
  collapse(id: string): void {
    this.cy.getElementById(id).data('expanded', false);
  }

  /** Removes the edges touching a profile before its relations are loaded again. */
  dropEdgesOf(id: string): void {
    this.cy.getElementById(id).connectedEdges().remove();
  }

  setLabel(id: string, label: string): void {
    const node = this.cy.getElementById(id);
    if (node.nonempty()) node.data('label', label);
  }

  setFocal(id: string): void {
    this.focalId = id;
    this.cy.nodes().removeClass('focal');
    this.cy.getElementById(id).addClass('focal');
    this.cy.edges().removeClass('incoming outgoing');
    this.cy.edges(`[target = "${id}"]`).addClass('incoming');
    this.cy.edges(`[source = "${id}"]`).addClass('outgoing');
  }

  /** Edge width by this numeric property (linear between the smallest and largest value shown). */
  setWidthProperty(name: string | undefined): void {
    this.widthProperty = name;
    this.updateWidths();
  }

  updateWidths(): void {
    const name = this.widthProperty;
    const widthValue = (edge: cytoscape.EdgeSingular): number | undefined => {
      if (!name) return undefined;
      const v = (edge.data('props') as Record<string, PropValue>)[name];
      return typeof v === 'number' ? v : undefined;
    };
    const values = this.cy
      .edges()
      .map(widthValue)
      .filter((v): v is number => v !== undefined);
    const min = Math.min(...values);
    const max = Math.max(...values);
    this.cy.edges().forEach((edge) => {
      const v = widthValue(edge);
      let w = name ? MIN_WIDTH : 3;
      if (v !== undefined)
        w = max > min ? MIN_WIDTH + ((v - min) / (max - min)) * (MAX_WIDTH - MIN_WIDTH) : 6;
      edge.data('w', w);
    });
  }

  /** Rings around the selected profile: its neighbours first, theirs further out. */
  layout(): void {
    const depth = new Map<string, number>();
    if (this.focalId && this.cy.getElementById(this.focalId).nonempty()) {
      depth.set(this.focalId, 0);
      const queue = [this.focalId];
      while (queue.length) {
        const id = queue.shift()!;
        this.cy
          .getElementById(id)
          .neighborhood('node')
          .forEach((n) => {
            if (!depth.has(n.id())) {
              depth.set(n.id(), depth.get(id)! + 1);
              queue.push(n.id());
            }
          });
      }
    }
    this.cy
      .layout({
        name: 'concentric',
        concentric: (node: cytoscape.NodeSingular) => 100 - (depth.get(node.id()) ?? 50),
        levelWidth: () => 1,
        minNodeSpacing: 36,
        padding: 24,
        animate: false,
      } as cytoscape.ConcentricLayoutOptions)
      .run();
    this.fit();
  }

  /** Shows every profile, without blowing a few of them up to giant circles. */
  fit(): void {
    if (this.cy.nodes().empty()) return;
    this.cy.fit(undefined, 24);
    if (this.cy.zoom() > MAX_FIT_ZOOM) {
      this.cy.zoom(MAX_FIT_ZOOM);
      this.cy.center();
    }
  }

  /** For tests and the curious: how many profiles and relations are drawn. */
  counts(): { nodes: number; edges: number } {
    return { nodes: this.cy.nodes().length, edges: this.cy.edges().length };
  }
}
