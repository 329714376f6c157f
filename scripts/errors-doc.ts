// Writes docs/errors.md from the error catalogue (npm run docs:errors); a test keeps them equal.
import { writeFileSync } from 'node:fs';
import { ERROR_CATALOGUE } from '../src/core/errors.js';

export function renderErrorsDoc(): string {
  const rows = Object.entries(ERROR_CATALOGUE).map(
    ([code, e]) => `| \`${code}\` | ${e.status} | ${e.when} | \`${e.message}\` |`,
  );
  return `# Errors

Every answer is an envelope with \`error\` (0 on success) and \`error_text\`. A failure's \`error\` is
one of the numbers below, and the HTTP status equals it (unless \`TIES_HTTP_STATUS=always200\`).
\`error_text\` follows the template of its code; a \`{param}\` names the parameter by its path in the
request (\`profile_a.email\`, \`weights.donate\`, \`fields[2].type\`), so clients and the explorer
can show the message next to the field. A failed call changes nothing.

This file is generated from \`src/core/errors.ts\` by \`npm run docs:errors\`; a test fails when the
two differ.

| code | error | when | error_text |
|---|---|---|---|
${rows.join('\n')}

## Order of checks

parse (400, 413, 415) → call exists (404) → token (401, 403) → rate limit (429) → parameters (400)
→ things named exist (404) → conflicts (409). A 500 carries only the request id; the details are
in the server log under that id.
`;
}

if (process.argv[1]?.endsWith('errors-doc.ts')) {
  writeFileSync('docs/errors.md', renderErrorsDoc());
  console.log('docs/errors.md written');
}
