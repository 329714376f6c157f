// The graph's zoom and pan: when the Explorer fits the drawing to its box, and when it leaves the
// view alone. Refitting on every resize the browser reports moved the graph under the user's pointer
// (a scrollbar coming or going, a sub-pixel change while the page scrolls) and threw away the zoom
// and pan the user had made. So a resize refits only when the box really changed size and the view
// is still the Explorer's own fit; a drawing that grows refits only when the user asked for new
// profiles that would fall outside what they look at; the "Fit to view" button refits whenever asked.

/** A few profiles would otherwise be fitted to giant circles. */
const MAX_FIT_ZOOM = 1.25;
/** Free space left around the drawing by a fit (px). */
const FIT_PADDING = 24;
/**
 * A change of the box's width or height up to this (px) keeps the view: Chromium's classic
 * scrollbar is 15 px wide, and a fit's padding (24 px) keeps every node inside the box through a
 * change this small, so nothing is hidden by not refitting. Compared with the size at the last fit,
 * so that small changes cannot add up unnoticed.
 */
const RESIZE_SLACK = 20;

type Size = { readonly w: number; readonly h: number };

export class GraphViewport {
  /** The box's size (whole px) at the last fit; undefined before the first. */
  private fitted: Size | undefined;
  /** The user zoomed or panned since the last fit: their view is kept. */
  private moved = false;

  constructor(
    private readonly cy: cytoscape.Core,
    container: HTMLElement,
  ) {
    // Cytoscape sizes its canvas once; a phone turned sideways or a narrower window must not
    // leave it wider than its box. The canvas always follows the box; the view only as said above.
    new ResizeObserver(() => {
      this.cy.resize();
      this.resized();
    }).observe(container);
    // Cytoscape's own events for the user's gestures (a fit emits none of them).
    this.cy.on('scrollzoom pinchzoom dragpan', () => {
      this.moved = true;
    });
  }

  /** A new drawing: the next layout fits it, whatever the user did to the last one. */
  reset(): void {
    this.moved = false;
  }

  /** Shows every profile, without blowing a few of them up to giant circles. */
  fit(): void {
    const size = this.size();
    // A hidden box (the admin view is open) has nothing to fit to.
    if (this.cy.nodes().empty() || size.w === 0 || size.h === 0) return;
    this.cy.fit(undefined, FIT_PADDING);
    if (this.cy.zoom() > MAX_FIT_ZOOM) {
      this.cy.zoom(MAX_FIT_ZOOM);
      this.cy.center();
    }
    this.fitted = size;
    this.moved = false;
  }

  /**
   * After profiles were placed (`added`): the Explorer's own view is fitted again; a view the user
   * zoomed or panned is kept, unless they asked for the new profiles (expanded a profile, "Show
   * more") and one of them is outside it. A change, their own or another client's, never moves it.
   */
  afterLayout(added: cytoscape.NodeCollection, asked: boolean): void {
    if (!this.moved || (asked && !this.shows(added))) this.fit();
  }

  private resized(): void {
    const size = this.size();
    if (size.w === 0 || size.h === 0 || this.moved) return;
    const last = this.fitted;
    if (last && Math.abs(size.w - last.w) <= RESIZE_SLACK && Math.abs(size.h - last.h) <= RESIZE_SLACK)
      return;
    this.fit();
  }

  /** Whether every one of these nodes is drawn inside the box. */
  private shows(nodes: cytoscape.NodeCollection): boolean {
    const view = this.cy.extent();
    return nodes.every((n) => {
      const b = n.boundingBox();
      return b.x1 >= view.x1 && b.x2 <= view.x2 && b.y1 >= view.y1 && b.y2 <= view.y2;
    });
  }

  private size(): Size {
    return { w: Math.round(this.cy.width()), h: Math.round(this.cy.height()) };
  }
}
