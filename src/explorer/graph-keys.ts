// The graph from the keyboard: Cytoscape draws on a canvas that has no focusable parts, so the graph
// box itself takes focus and the arrow keys step through the relations drawn (each shown in the
// inspector), Home goes back to the focal profile, and Enter moves on to the inspector's actions.
import type { GraphView } from './graph-view.js';

export interface GraphKeyHooks {
  /** The edge stepped to (or tapped): show it. `position` is "n of m" among the relations drawn. */
  readonly onEdge: (edge: cytoscape.EdgeSingular, position: string) => void;
  /** Home: show the focal profile again. */
  readonly onHome: () => void;
  /** Enter: continue in the inspector. */
  readonly onEnter: () => void;
  /** The edge shown, if any. */
  readonly currentEdgeId: () => string | undefined;
}

export function attachGraphKeys(container: HTMLElement, graph: GraphView, hooks: GraphKeyHooks): void {
  // index.html gives the box its role (application) and says these keys in its label.
  container.tabIndex = 0;
  container.addEventListener('keydown', (event) => {
    const step = { ArrowRight: 1, ArrowDown: 1, ArrowLeft: -1, ArrowUp: -1 }[event.key];
    if (step !== undefined) {
      const edges = graph.cy.edges().toArray() as cytoscape.EdgeSingular[];
      if (edges.length === 0) return;
      event.preventDefault();
      const at = edges.findIndex((e) => e.id() === hooks.currentEdgeId());
      const next = at < 0 ? (step > 0 ? 0 : edges.length - 1) : (at + step + edges.length) % edges.length;
      hooks.onEdge(edges[next]!, `${next + 1} of ${edges.length}`);
    } else if (event.key === 'Home') {
      event.preventDefault();
      hooks.onHome();
    } else if (event.key === 'Enter') {
      event.preventDefault();
      hooks.onEnter();
    }
  });
}
