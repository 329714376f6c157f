// The inspector: what is selected in the graph, in full — a profile's fields (profiles/get) or a
// relation's properties — with the actions that apply to it and that the token's rights allow:
// open a profile as the focal one, change a relation (the change form's Edit) or detach it (the
// form's confirmation, then Undo). Everything in it is reachable by keyboard.
import { errorText, type Profile, type ProfileRef, type RelationType, type TiesClient } from './api.js';
import type { Props } from './change-preview.js';
import { byId, clear, formatValue, h, say, shortId } from './dom-helpers.js';

/** A relation as the graph draws it: B (initiator) → A (recipient) and its values. */
export interface InspectedRelation {
  readonly a: ProfileRef;
  readonly b: ProfileRef;
  readonly props: Props;
}

export type Inspected =
  | { readonly kind: 'profile'; readonly profile: ProfileRef }
  | { readonly kind: 'relation'; readonly relation: InspectedRelation };

export interface InspectorOptions {
  readonly api: () => TiesClient;
  readonly labelOf: (id: string) => string;
  readonly dbName: (id: number) => string;
  readonly type: () => RelationType | undefined;
  readonly focalId: () => string | undefined;
  readonly canWrite: () => boolean;
  readonly onOpen: (profile: ProfileRef) => void;
  readonly onChange: (relation: InspectedRelation) => void;
  readonly onDetach: (relation: InspectedRelation) => void;
}

/** Fields of profiles/get that are not the profile's own data (shown apart or not at all). */
const META = new Set(['id', 'db_id', '_xxh', 'subscriptions']);

export class Inspector {
  private current: Inspected | undefined;
  /** The profile answer shown, kept so that a redraw (names arrived) needs no new request. */
  private profileAnswer: Profile | undefined;
  private profileError: string | undefined;
  private readonly heading = byId('inspector-title');
  private readonly body = h('div', { class: 'inspector-body', id: 'inspector-body' });
  private readonly status = h('p', { class: 'status', role: 'status', id: 'inspector-status' });

  constructor(
    root: HTMLElement,
    private readonly options: InspectorOptions,
  ) {
    root.append(this.body, this.status);
    this.render();
  }

  /** What is shown (for the deep link and the tests). */
  get inspected(): Inspected | undefined {
    return this.current;
  }

  clear(): void {
    this.current = undefined;
    this.profileAnswer = undefined;
    say(this.status, '');
    this.render();
  }

  /** What was shown is gone (a detached relation): nothing is shown, and the status says why. */
  gone(why: string): void {
    this.clear();
    say(this.status, why);
  }

  /** Says something about the selection (e.g. "Relation 2 of 12") in the inspector's live region. */
  announce(text: string): void {
    say(this.status, text);
  }

  /**
   * Shows a profile's fields, loaded with profiles/get unless the caller has them already (the
   * search's own answer: no second request for the same profile).
   */
  async showProfile(profile: ProfileRef, known?: Profile): Promise<void> {
    const same = this.current?.kind === 'profile' && this.current.profile.id === profile.id;
    this.current = { kind: 'profile', profile };
    if (!same) this.profileAnswer = undefined;
    this.profileError = undefined;
    if (known?.id === profile.id) {
      this.profileAnswer = known;
      say(this.status, '');
      this.render();
      return;
    }
    this.render();
    say(this.status, 'Loading the profile…');
    try {
      const answer = await this.options
        .api()
        .profiles.get({ db_id: profile.db, matching: 'profile_id', profile_id: profile.id });
      if (this.current?.kind !== 'profile' || this.current.profile.id !== profile.id) return;
      this.profileAnswer = answer.data;
      say(this.status, '');
    } catch (err) {
      if (this.current?.kind !== 'profile' || this.current.profile.id !== profile.id) return;
      this.profileError = errorText(err);
      say(this.status, '');
    }
    this.render();
  }

  showRelation(relation: InspectedRelation): void {
    this.current = { kind: 'relation', relation };
    this.profileAnswer = undefined;
    say(this.status, '');
    this.render();
  }

  /** Moves the keyboard to the inspector (after a selection made from the keyboard). */
  focus(): void {
    this.heading.focus();
  }

  /** Draws again (names arrived, rights or the focal profile changed). */
  render(): void {
    const shown = this.current;
    clear(this.body);
    if (!shown) {
      this.heading.textContent = 'Inspector';
      this.body.append(
        h('p', { class: 'muted' }, 'Select a profile or a relation in the graph to see it in full here.'),
      );
      return;
    }
    if (shown.kind === 'profile') this.renderProfile(shown.profile);
    else this.renderRelation(shown.relation);
  }

  private renderProfile(profile: ProfileRef): void {
    const { labelOf, dbName, focalId } = this.options;
    this.heading.textContent = `Profile ${labelOf(profile.id)}`;
    const rows: [string, Node | string][] = [
      ['id', h('span', { class: 'mono' }, profile.id)],
      ['database', dbName(profile.db)],
    ];
    const p = this.profileAnswer;
    if (p) {
      for (const key of Object.keys(p).sort()) {
        if (!META.has(key)) rows.push([key, showField(p[key])]);
      }
      const subs = p.subscriptions.map(
        (s) => `${s.channel} ${s.email ?? s.phone ?? s.subscription_id ?? ''} (resource ${s.resource_id})`,
      );
      rows.push(['subscriptions', subs.length ? subs.join('; ') : 'none']);
    }
    this.body.append(definitionList(rows, 'inspector-fields'));
    if (this.profileError)
      this.body.append(h('p', { class: 'field-error', role: 'alert' }, this.profileError));
    const actions = h('div', { class: 'actions inspector-actions' });
    if (focalId() !== profile.id)
      actions.append(
        this.button('inspector-open', `Open ${labelOf(profile.id)} as focal`, () =>
          this.options.onOpen(profile),
        ),
      );
    else actions.append(h('span', { class: 'muted small' }, 'This is the selected (focal) profile.'));
    this.body.append(actions);
  }

  private renderRelation(relation: InspectedRelation): void {
    const { labelOf, type, focalId, canWrite } = this.options;
    const t = type();
    this.heading.textContent = `Relation ${labelOf(relation.b.id)} → ${labelOf(relation.a.id)}`;
    const rows: [string, Node | string][] = [];
    if (t) rows.push(['type', `${t.name} (rel_id ${t.rel_id})`]);
    rows.push(
      ['B, initiator', `${labelOf(relation.b.id)} · ${shortId(relation.b.id)}`],
      ['A, recipient', `${labelOf(relation.a.id)} · ${shortId(relation.a.id)}`],
    );
    const names = t ? t.properties.map((p) => p.name) : Object.keys(relation.props);
    for (const name of names) {
      const kind = t?.properties.find((p) => p.name === name)?.type;
      rows.push([kind ? `${name} (${kind})` : name, formatValue(relation.props[name])]);
    }
    this.body.append(definitionList(rows, 'inspector-props'));
    const actions = h('div', { class: 'actions inspector-actions' });
    if (canWrite())
      actions.append(
        this.button('inspector-change', 'Change…', () => this.options.onChange(relation)),
        this.button('inspector-detach', 'Detach…', () => this.options.onDetach(relation)),
      );
    for (const [side, p] of [
      ['B', relation.b],
      ['A', relation.a],
    ] as const) {
      if (focalId() !== p.id)
        actions.append(
          this.button(`inspector-open-${side.toLowerCase()}`, `Open ${side}: ${labelOf(p.id)}`, () =>
            this.options.onOpen(p),
          ),
        );
    }
    if (!canWrite()) actions.append(h('span', { class: 'muted small' }, 'Changing needs the write right.'));
    this.body.append(actions);
  }

  private button(id: string, text: string, onclick: () => void): HTMLButtonElement {
    return h('button', { type: 'button', id, class: 'small-button', onclick }, text);
  }
}

function definitionList(rows: readonly [string, Node | string][], id: string): HTMLDListElement {
  const dl = h('dl', { class: 'inspector-list', id });
  for (const [term, value] of rows) dl.append(h('dt', {}, term), h('dd', {}, value));
  return dl;
}

/** A profile field as text: lists joined, anything structured as JSON (never "[object Object]"). */
function showField(value: unknown): string {
  if (Array.isArray(value) && value.every((v) => typeof v !== 'object' || v === null))
    return value.join(', ');
  if (typeof value === 'object' && value !== null) return JSON.stringify(value);
  return formatValue(value);
}
