-- Schema version 5: a resource's url and tracking domain, as set at resources/create and answered
-- by resources/get (Altcraft's fields; issue #13). Existing resources have neither: ''.
ALTER TABLE resources ADD COLUMN url text NOT NULL DEFAULT '';
ALTER TABLE resources ADD COLUMN trk_domain text NOT NULL DEFAULT '';
