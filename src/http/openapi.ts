// The OpenAPI 3.1 document of every call, generated from the call catalogue's TypeBox schemas —
// the same schemas that validate requests.
import type { CallDef } from '../api/calls.js';
import { ERROR_CATALOGUE } from '../core/errors.js';

/** TypeBox schemas carry symbol-keyed metadata; the document wants plain JSON Schema. */
function plain(schema: unknown): Record<string, unknown> {
  return JSON.parse(JSON.stringify(schema)) as Record<string, unknown>;
}

function envelopeOf(answer: Record<string, unknown>): Record<string, unknown> {
  const properties = (answer.properties ?? {}) as Record<string, unknown>;
  const required = (answer.required ?? []) as string[];
  return {
    type: 'object',
    required: ['error', 'error_text', ...required],
    properties: {
      error: { type: 'integer', description: '0 on success' },
      error_text: { type: 'string' },
      ...properties,
    },
  };
}

const ERROR_SCHEMA = {
  type: 'object',
  required: ['error', 'error_text'],
  properties: {
    error: { type: 'integer', enum: [...new Set(Object.values(ERROR_CATALOGUE).map((e) => e.status))] },
    error_text: { type: 'string', description: 'Names the parameter and what was expected' },
  },
};

export function buildOpenApi(calls: readonly CallDef[], version: string): Record<string, unknown> {
  const paths: Record<string, unknown> = {};
  for (const call of calls) {
    const params = plain(call.params);
    const answer = envelopeOf(plain(call.answer));
    paths[`/api/v1.1/${call.name}`] = {
      post: {
        operationId: call.name.replace(/\//g, '_'),
        tags: [call.group],
        summary: call.summary,
        description: `Needs a token with the \`${call.right}\` right. Bodies are JSON or XML (root <xml>, arrays as repeated elements).`,
        requestBody: {
          required: true,
          content: {
            'application/json': { schema: params },
            'application/xml': { schema: { ...params, xml: { name: 'xml' } } },
          },
        },
        responses: {
          '200': {
            description: `Success (error 0, error_text "${call.successText}")`,
            content: { 'application/json': { schema: answer }, 'application/xml': { schema: answer } },
          },
          default: {
            description: 'An error envelope; the HTTP status equals error unless TIES_HTTP_STATUS=always200',
            content: {
              'application/json': { schema: ERROR_SCHEMA },
              'application/xml': { schema: ERROR_SCHEMA },
            },
          },
        },
        security: [{ bearer: [] }, {}],
      },
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Ties',
      version,
      description:
        'Relations between customer profiles, speaking the Altcraft Platform API v1.1. The token may also be sent as `token` in the body or `?token=`.\n\n' +
        '**HTTP status.** By default the HTTP status of a refusal equals its `error` (400, 404, 409, …). ' +
        'Clients that throw on any non-2xx status and lose the body — Java/Spring `RestTemplate` with its default error handler, ' +
        'or code that treats a 4xx as a transport failure — should run Ties with `TIES_HTTP_STATUS=always200` ' +
        '(`--http-status always200`): every envelope is then HTTP 200 and the client reads `error` from the body.',
    },
    components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    paths,
  };
}
