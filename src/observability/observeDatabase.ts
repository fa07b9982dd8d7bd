import { SpanKind, SpanStatusCode, trace, type Span } from '@opentelemetry/api';
import type { CommandFailedEvent, CommandStartedEvent, CommandSucceededEvent, MongoClient } from 'mongodb';
import type { Metrics } from './createMetrics.js';

/**
 * Feeds the driver's command events (the client has `monitorCommands: true`) into the database
 * metrics and, when tracing is on, one client span per command. Returns a function that detaches.
 */
export function observeDatabase(client: MongoClient, metrics: Metrics): () => void {
  const tracer = trace.getTracer('consent-subgraph');
  const inFlight = new Map<number, { command: string; collection: string; span: Span }>();

  const started = (event: CommandStartedEvent) => {
    const command = event.commandName;
    const collection = collectionOf(event);
    const span = tracer.startSpan(`mongodb.${command}`, {
      kind: SpanKind.CLIENT,
      attributes: { 'db.system': 'mongodb', 'db.operation.name': command, 'db.collection.name': collection, 'db.namespace': event.databaseName },
    });
    inFlight.set(event.requestId, { command, collection, span });
  };
  const finished = (event: CommandSucceededEvent | CommandFailedEvent, outcome: 'ok' | 'error') => {
    const entry = inFlight.get(event.requestId);
    inFlight.delete(event.requestId);
    const command = entry?.command ?? event.commandName;
    metrics.dbDuration.observe({ command, collection: entry?.collection ?? '-', outcome }, event.duration / 1000);
    if (entry !== undefined) {
      if (outcome === 'error') entry.span.setStatus({ code: SpanStatusCode.ERROR });
      entry.span.end();
    }
  };
  const succeeded = (event: CommandSucceededEvent) => finished(event, 'ok');
  const failed = (event: CommandFailedEvent) => finished(event, 'error');

  client.on('commandStarted', started);
  client.on('commandSucceeded', succeeded);
  client.on('commandFailed', failed);
  return () => {
    client.off('commandStarted', started);
    client.off('commandSucceeded', succeeded);
    client.off('commandFailed', failed);
  };
}

// The collection a command addresses: the command's own value for find/insert/update/…, the
// `collection` field for getMore, none ("-") for ping, hello and other database-level commands.
function collectionOf(event: CommandStartedEvent): string {
  const value = event.command[event.commandName];
  if (typeof value === 'string') return value;
  const named = event.command.collection;
  return typeof named === 'string' ? named : '-';
}
