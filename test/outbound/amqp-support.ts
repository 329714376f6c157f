// The real RabbitMQ broker for the publisher's tests: 127.0.0.1:5672 unless TIES_TEST_AMQP_URL says
// otherwise; .ci/run starts it and sets TIES_TEST_AMQP_REQUIRED=1, so CI never passes by skipping.
// A test queue bound to the exchange collects what was published; closeConnectionsNamed closes a
// connection from the broker's side (rabbitmqctl close_connection), as a broker restart would.
import { execFileSync } from 'node:child_process';
import * as amqp from 'amqplib';

export const AMQP_URL = process.env.TIES_TEST_AMQP_URL || 'amqp://guest:guest@127.0.0.1:5672';
export const AMQP_REQUIRED = process.env.TIES_TEST_AMQP_REQUIRED === '1';

/** Why the broker cannot be used (undefined when it can). */
export async function amqpMissing(): Promise<string | undefined> {
  try {
    const connection = await amqp.connect(AMQP_URL);
    await connection.close();
    return undefined;
  } catch (err) {
    const reason = `RabbitMQ is not reachable at ${AMQP_URL}: ${(err as Error).message}`;
    if (AMQP_REQUIRED) throw new Error(reason);
    return reason;
  }
}

export interface Published {
  readonly seq: number;
  readonly routingKey: string;
  readonly messageId: string;
  readonly persistent: boolean;
  readonly body: Record<string, any>;
}

export interface TestQueue {
  readonly messages: Published[];
  close(): Promise<void>;
}

/** A fresh exclusive queue bound to `exchange` with `pattern`, consuming into `messages`. */
export async function bindTestQueue(exchange: string, pattern = '#'): Promise<TestQueue> {
  const connection = await amqp.connect(AMQP_URL, {
    clientProperties: { connection_name: `ties test consumer (${exchange})` },
  });
  const channel = await connection.createChannel();
  await channel.assertExchange(exchange, 'topic', { durable: true });
  const { queue } = await channel.assertQueue('', { exclusive: true });
  await channel.bindQueue(queue, exchange, pattern);
  const messages: Published[] = [];
  await channel.consume(
    queue,
    (msg) => {
      if (!msg) return;
      const body = JSON.parse(msg.content.toString('utf8')) as Record<string, any>;
      messages.push({
        seq: body.seq,
        routingKey: msg.fields.routingKey,
        messageId: String(msg.properties.messageId),
        persistent: msg.properties.deliveryMode === 2,
        body,
      });
    },
    { noAck: true },
  );
  return {
    messages,
    async close() {
      await connection.close().catch(() => {});
    },
  };
}

export async function deleteExchange(exchange: string): Promise<void> {
  const connection = await amqp.connect(AMQP_URL);
  try {
    const channel = await connection.createChannel();
    await channel.deleteExchange(exchange);
  } finally {
    await connection.close().catch(() => {});
  }
}

/** Closes, from the broker's side, every connection whose connection_name contains `name`; answers how many. */
export function closeConnectionsNamed(name: string): number {
  const out = execFileSync(
    'rabbitmqctl',
    ['list_connections', 'pid', 'client_properties', '-q', '--no-table-headers'],
    {
      encoding: 'utf8',
    },
  );
  let closed = 0;
  for (const line of out.split('\n')) {
    if (!line.includes(`{"connection_name","${name}`)) continue;
    execFileSync('rabbitmqctl', ['close_connection', line.split('\t')[0]!, 'ties test: forced close'], {
      stdio: 'ignore',
    });
    closed++;
  }
  return closed;
}
