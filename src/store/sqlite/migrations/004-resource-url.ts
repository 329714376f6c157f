// SQLite schema version 4: a resource's url and tracking domain, as set at resources/create and
// answered by resources/get (Altcraft's fields; issue #13). Existing resources have neither: ''.
export const RESOURCE_URL_SCHEMA = `
ALTER TABLE resources ADD COLUMN url TEXT NOT NULL DEFAULT '';
ALTER TABLE resources ADD COLUMN trk_domain TEXT NOT NULL DEFAULT '';
`;
