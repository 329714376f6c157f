// The relation graph (Cytoscape.js, loaded from Ties itself as window.cytoscape): profiles as nodes,
// relations as arrows from initiator B to recipient A, coloured by direction relative to the
// selected profile, and as wide as a chosen numeric property. The first profile's neighbourhood is
// laid out in rings; after that a node never moves: neighbours loaded later (an expanded node,
// "show more") are placed in rings around the profile they belong to, outside what is there.
import type { ProfileRef, PropValue, RelationRow } from './api.js';
import { GraphViewport } from './graph-viewport.js';

/** Node colours by database, in order of appearance; readable on white and distinct in greyscale. */
const DB_COLOURS = ['#0f766e', '#7c3aed', '#b45309', '#be185d', '#1d4ed8', '#4d7c0f'] as const;
export const INCOMING_COLOUR = '#2563eb';
export const OUTGOING_COLOUR = '#ea580c';
const OTHER_COLOUR = '#9ca3af';
const MIN_WIDTH = 1.5;
const MAX_WIDTH = 10;
/** Distance between neighbouring nodes on a ring, and between rings (model units). */
const NODE_SPACING = 44;
const RING_GAP = 56;

type Point = { x: number; y: number };

/**
 * `count` points on arcs around `center` from `radius` outwards, each arc as full as the spacing
 * allows: whole rings (`spread` π), or arcs of ±`spread` around the direction `towards`.
 */
export function arcPositions(
  center: Point,
  count: number,
  radius: number,
  towards = 0,
  spread = Math.PI,
): Point[] {
  const out: Point[] = [];
  let r = radius;
  while (out.length < count) {
    const whole = spread >= Math.PI;
    const capacity = Math.max(whole ? 6 : 3, Math.floor((2 * spread * r) / NODE_SPACING));
    const n = Math.min(capacity, count - out.length);
    // Whole rings start a little further round each time, so that rings do not line up into spokes.
    const start = whole ? (r / RING_GAP) * 0.37 : towards - (spread * (n - 1)) / Math.max(capacity - 1, 1);
    const step = whole ? (2 * Math.PI) / n : (2 * spread) / Math.max(capacity - 1, 1);
    for (let i = 0; i < n; i++) {
      const angle = start + step * i;
      out.push({ x: center.x + r * Math.cos(angle), y: center.y + r * Math.sin(angle) });
    }
    r += RING_GAP;
  }
  return out;
}

export interface GraphOptions {
  /** A node was clicked (or tapped): select it and load its relations. */
  readonly onSelect: (profile: ProfileRef) => void;
}

export class GraphView {
  readonly cy: cytoscape.Core;
  /** When the drawing is fitted to the box, and when the user's zoom and pan are kept. */
  readonly viewport: GraphViewport;
  private focalId: string | undefined;
  private widthProperty: string | undefined;
  private readonly dbColours = new Map<number, string>();
  /** Nodes not placed yet, with the profile they were loaded for (placed around it). */
  private readonly unplaced = new Map<string, string | undefined>();

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
            // Long names are cut with an ellipsis, and a label too small to read at the current
            // zoom is hidden rather than drawn as a smudge (zoom in to read it; the table names all).
            'text-wrap': 'ellipsis',
            'text-max-width': '120px',
            'min-zoomed-font-size': 7,
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
    this.viewport = new GraphViewport(this.cy, container);
    this.cy.on('tap', 'node', (event) => {
      const node = event.target as cytoscape.NodeSingular;
      options.onSelect({ id: node.id(), db: node.data('db') as number });
    });
  }

  /** Empties the graph for a new relation type or a new search. */
  reset(): void {
    this.cy.elements().remove();
    this.focalId = undefined;
    this.unplaced.clear();
    this.viewport.reset();
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

  /** Adds a profile unless it is drawn; a new one is placed around `near` at the next layout(). */
  addProfile(profile: ProfileRef, label: string, near?: string): void {
    if (this.cy.getElementById(profile.id).nonempty()) return;
    this.cy.add({
      group: 'nodes',
      data: { id: profile.id, db: profile.db, label, colour: this.colourOf(profile.db), expanded: false },
    });
    this.unplaced.set(profile.id, near);
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
      this.addProfile(neighbour, labelOf(neighbour.id), profile.id);
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

  /**
   * Places the nodes added since the last call. The first neighbourhood drawn is laid out in rings
   * around the selected profile; later nodes go in rings around the profile they were loaded for,
   * outside its neighbours already drawn, and no node already placed moves (a user who expands a
   * profile keeps the picture they were reading). Then fits the graph to view, unless the user
   * zoomed or panned since the last fit and either every new profile is inside their view or the
   * user did not ask for the new profiles (`asked` false: a redraw after a change, live or not).
   */
  layout(asked = true): void {
    const added = this.cy.nodes().filter((n) => this.unplaced.has(n.id()));
    const placed = this.cy.nodes().filter((n) => !this.unplaced.has(n.id()));
    if (placed.empty()) this.layoutAll();
    else {
      const byAnchor = new Map<string | undefined, string[]>();
      for (const [id, anchor] of this.unplaced) {
        const known = anchor !== undefined && !this.unplaced.has(anchor) ? anchor : this.focalId;
        byAnchor.set(known, [...(byAnchor.get(known) ?? []), id]);
      }
      for (const [anchor, ids] of byAnchor) this.placeAround(anchor, ids, placed);
    }
    this.unplaced.clear();
    this.viewport.afterLayout(added, asked);
  }

  /**
   * Places `ids` around `anchor`. A profile in the middle of its drawn neighbours (the selected
   * hub after "show more") gets rings outside them; one at the edge of the drawing (a neighbour
   * being expanded) gets arcs facing away from what it is attached to, so that its new neighbours
   * fan out into free space instead of landing on the rings around the hub.
   */
  private placeAround(anchor: string | undefined, ids: readonly string[], placed: cytoscape.NodeCollection) {
    const anchorNode = anchor === undefined ? undefined : this.cy.getElementById(anchor);
    const box = placed.boundingBox();
    const center =
      anchorNode?.nonempty() && !this.unplaced.has(anchorNode.id())
        ? anchorNode.position()
        : { x: box.x1 + box.w / 2, y: box.y1 + box.h / 2 };
    const around: Point[] = [];
    anchorNode?.neighborhood('node').forEach((n) => {
      if (!this.unplaced.has(n.id())) around.push(n.position());
    });
    const dist = (p: Point) => Math.hypot(p.x - center.x, p.y - center.y);
    let points: Point[];
    if (around.length === 0) points = arcPositions(center, ids.length, RING_GAP * 1.6);
    else {
      const mean = {
        x: around.reduce((t, p) => t + p.x, 0) / around.length,
        y: around.reduce((t, p) => t + p.y, 0) / around.length,
      };
      const meanDist = around.reduce((t, p) => t + dist(p), 0) / around.length;
      if (dist(mean) < meanDist / 2) {
        const outside = Math.max(...around.map(dist)) + RING_GAP;
        points = arcPositions(center, ids.length, outside);
      } else {
        const away = Math.atan2(center.y - mean.y, center.x - mean.x);
        points = arcPositions(center, ids.length, RING_GAP * 1.6, away, Math.PI / 3);
      }
    }
    ids.forEach((id, i) => {
      this.cy.getElementById(id).position(points[i]!);
    });
  }

  /** Rings around the selected profile: its neighbours first, theirs further out. */
  private layoutAll(): void {
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
  }

  /** For tests and the curious: where each profile is drawn (model coordinates). */
  positions(): Record<string, { x: number; y: number }> {
    const out: Record<string, { x: number; y: number }> = {};
    this.cy.nodes().forEach((n) => {
      out[n.id()] = { ...n.position() };
    });
    return out;
  }

  /** For tests and the curious: how many profiles and relations are drawn. */
  counts(): { nodes: number; edges: number } {
    return { nodes: this.cy.nodes().length, edges: this.cy.edges().length };
  }
}
