// The administration view: databases with their fields, relation types with their properties,
// resources and tokens — what a workspace holds, read through the same API as everything else.
import { TiesApiError, type TiesClient, type TokenInfo } from './api.js';
import { clear, h } from './dom-helpers.js';

function table(
  caption: string,
  head: readonly string[],
  rows: readonly (readonly (Node | string)[])[],
): HTMLElement {
  // Focusable and named, as the relations table: a narrow screen scrolls it sideways.
  return h(
    'div',
    { class: 'table-scroll', tabindex: 0, role: 'region', 'aria-label': `${caption}, scrolls sideways` },
    h(
      'table',
      { class: 'admin' },
      h('caption', { class: 'visually-hidden' }, caption),
      h('thead', {}, h('tr', {}, ...head.map((t) => h('th', { scope: 'col' }, t)))),
      h(
        'tbody',
        {},
        ...(rows.length
          ? rows.map((r) => h('tr', {}, ...r.map((c) => h('td', {}, c))))
          : [h('tr', {}, h('td', { colspan: head.length, class: 'empty' }, 'None yet.'))]),
      ),
    ),
  );
}

const chips = (items: readonly string[]) =>
  h('span', { class: 'chips' }, ...items.map((t) => h('span', { class: 'chip' }, t)));

export async function renderAdmin(root: HTMLElement, api: TiesClient): Promise<void> {
  clear(root);
  root.append(h('p', { class: 'status', role: 'status' }, 'Loading…'));
  const [dbs, types, resources, tokens] = await Promise.all([
    api.databases.list({ limit: 1000 }),
    api.relations.types.list(),
    api.resources.list({ limit: 1000 }),
    api.tokens.list().catch((err: unknown) => err),
  ]);
  const fields = await Promise.all(dbs.data.map((d) => api.databases.fieldsGet({ id: d.id })));
  const dbName = new Map(dbs.data.map((d) => [d.id, d.name]));
  const nameOf = (id: number) => `${dbName.get(id) ?? 'database'} (${id})`;

  clear(root);
  root.append(
    h('h2', {}, 'Databases'),
    table(
      'Databases and their fields',
      ['Id', 'Name', 'Description', 'Custom fields', 'Standard fields'],
      dbs.data.map((d, i) => {
        const all = fields[i]!.data;
        const custom = all.filter((f) => f.is_custom).map((f) => `${f.name}: ${f.type}`);
        const standard = all.filter((f) => !f.is_custom);
        return [
          String(d.id),
          d.name,
          d.description,
          custom.length ? chips(custom) : '—',
          h(
            'details',
            {},
            h('summary', {}, `${standard.length} fields`),
            chips(standard.map((f) => `${f.name}: ${f.type}`)),
          ),
        ];
      }),
    ),
    h('h2', {}, 'Relation types'),
    table(
      'Relation types: B (initiator) → A (recipient)',
      ['rel_id', 'Name', 'A (recipient)', 'B (initiator)', 'Properties'],
      types.data.map((t) => [
        String(t.rel_id),
        t.name,
        nameOf(t.db_a),
        nameOf(t.db_b),
        t.properties.length
          ? chips(
              t.properties.map(
                (p) => `${p.name}: ${p.type}${p.top ? ` · top ${p.top}` : ''}${p.sum ? ' · sum' : ''}`,
              ),
            )
          : '—',
      ]),
    ),
    h('h2', {}, 'Resources'),
    table(
      'Resources',
      ['Id', 'Name', 'Channels', 'Databases'],
      resources.data.map((r) => [String(r.id), r.name, chips(r.channels), r.dbs_ids.map(nameOf).join(', ')]),
    ),
    h('h2', {}, 'Tokens'),
    tokens instanceof TiesApiError
      ? h('p', { class: 'muted' }, `Tokens are listed for admin tokens only (${tokens.errorText}).`)
      : tokens instanceof Error
        ? h('p', { class: 'muted' }, tokens.message)
        : table(
            'Tokens (the secrets are never shown again)',
            ['Id', 'Name', 'Rights', 'Created', 'Last used'],
            (tokens as { data: TokenInfo[] }).data.map((t) => [
              String(t.id),
              t.name,
              chips(t.rights),
              t.created_at.replace('T', ' ').slice(0, 19),
              t.last_used_at ? t.last_used_at.replace('T', ' ').slice(0, 19) : 'never',
            ]),
          ),
  );
}
