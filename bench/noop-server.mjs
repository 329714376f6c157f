// The HTTP ceiling of the benchmark: a Fastify server in its own process that parses the JSON body
// and answers a fixed attach envelope, with no token check and no store. Plain JavaScript so that it
// runs on bare node, as the compiled Ties server does.
import Fastify from 'fastify';

const ANSWER = JSON.stringify({
  error: 0,
  error_text: '',
  profile_a: '5d63dbdb439e7306b596c5d0',
  profile_b: '5d441038439e7363f3c26539',
  relation_id: 1,
});

// The same body limit and routing options as Ties, so that reading and routing cost the same.
const app = Fastify({
  logger: false,
  bodyLimit: 1_048_576,
  routerOptions: { ignoreTrailingSlash: true, ignoreDuplicateSlashes: true },
});
app.post('/api/v1.1/*', (request, reply) => {
  // Fastify has parsed the JSON body already; touching it keeps the parse from being optimised away.
  if (typeof request.body !== 'object' || request.body === null) return reply.code(400).send('{}');
  reply.header('content-type', 'application/json; charset=utf-8');
  return reply.send(ANSWER);
});

const address = await app.listen({ port: 0, host: '127.0.0.1' });
process.stdout.write(`noop listening on ${address}\n`);
const stop = () => app.close().then(() => process.exit(0));
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
