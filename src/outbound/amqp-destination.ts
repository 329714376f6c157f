// Publishes change events to RabbitMQ (issue #16, `--publish amqp://…`): a durable topic exchange
// (default ties.changes), routing key `rel.<rel_id>.<call>` (e.g. rel.7.relations/attach; bind
// `rel.7.#` for one relation type), persistent messages, publisher confirms. A batch counts as
// published only once the broker confirmed every message of it; then the runner moves the durable
// position. A lost connection (broker restart, closed connection) fails the batch; the runner
// retries with backoff, reconnecting, and publishes again from the position (at least once: a
// message confirmed just before the connection died may be published twice; consumers dedupe by
// message_id, the event's seq).
import * as amqp from 'amqplib';
import { changeEventToWire } from '../api/change-wire.js';
import type { ChangeEvent } from '../core/change-feed.js';
import type { Destination, OutboundLogger } from './cursor-runner.js';

export const DEFAULT_EXCHANGE = 'ties.changes';
export const AMQP_BATCH = 500;

export function routingKey(event: ChangeEvent): string {
  return `rel.${event.relId}.${event.call}`;
}

/** The URL without its password, for logs and errors. */
export function redactAmqpUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'amqp://…';
  }
}

export class AmqpDestination implements Destination {
  readonly cursorName: string;
  readonly filter = {};
  readonly batchSize = AMQP_BATCH;
  readonly createCursor = true;
  private connection: amqp.ChannelModel | undefined;
  private channel: amqp.ConfirmChannel | undefined;

  constructor(
    private readonly url: string,
    private readonly exchange: string,
    private readonly logger: OutboundLogger,
  ) {
    this.cursorName = `amqp:${exchange}`;
  }

  private async open(): Promise<amqp.ConfirmChannel> {
    if (this.channel) return this.channel;
    const connection = await amqp.connect(this.url, {
      clientProperties: { connection_name: `ties publisher (${this.exchange})` },
    });
    const forget = () => {
      if (this.connection === connection) {
        this.connection = undefined;
        this.channel = undefined;
      }
    };
    // Without an error listener a lost connection would crash the process; the next batch reconnects.
    connection.on('error', (err: Error) => this.logger.warn({ err: err.message }, 'amqp: connection error'));
    connection.on('close', forget);
    try {
      const channel = await connection.createConfirmChannel();
      channel.on('error', (err: Error) => this.logger.warn({ err: err.message }, 'amqp: channel error'));
      channel.on('close', forget);
      await channel.assertExchange(this.exchange, 'topic', { durable: true });
      this.connection = connection;
      this.channel = channel;
      this.logger.info({ url: redactAmqpUrl(this.url), exchange: this.exchange }, 'amqp: publishing');
      return channel;
    } catch (err) {
      await connection.close().catch(() => {});
      throw err;
    }
  }

  async deliver(events: readonly ChangeEvent[]): Promise<void> {
    const channel = await this.open();
    try {
      for (const event of events) {
        channel.publish(
          this.exchange,
          routingKey(event),
          Buffer.from(JSON.stringify(changeEventToWire(event))),
          {
            persistent: true,
            contentType: 'application/json',
            messageId: String(event.seq),
            type: event.call,
            timestamp: Math.floor(Date.parse(event.at) / 1000),
            appId: 'ties',
          },
        );
      }
      // Resolves once the broker confirmed every message published on the channel; rejects on a nack
      // or when the channel closes first.
      await channel.waitForConfirms();
    } catch (err) {
      await this.idle();
      throw err;
    }
  }

  /** Closes the connection (stopping, or the lease went to another server). */
  async idle(): Promise<void> {
    const connection = this.connection;
    this.connection = undefined;
    this.channel = undefined;
    await connection?.close().catch(() => {});
  }
}
