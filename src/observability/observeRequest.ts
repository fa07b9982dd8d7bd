import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { context, propagation, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { Logger } from 'pino';

/** The header a request id is read from and echoed in. */
export const REQUEST_ID_HEADER = 'x-request-id';

// A caller's id is kept only if it is short and printable, so it can't forge log lines.
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

const current = new AsyncLocalStorage<Logger>();

/** The logger of the request being handled (it carries the request id), or `fallback` outside one. */
export function requestLog(fallback: Logger): Logger {
  return current.getStore() ?? fallback;
}

/** The caller's `x-request-id` when well formed, otherwise a new UUID. */
export function requestIdOf(req: IncomingMessage): string {
  const given = req.headers[REQUEST_ID_HEADER];
  return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
}

/**
 * Runs `handle` for one HTTP request with a request id (echoed in `x-request-id`), a child logger
 * carrying it, a server span (a no-op unless tracing is on; a `traceparent` header is honoured) and
 * one JSON access-log line when the response ends (health probes at debug level; `uploadAborted`
 * when the client hung up mid-upload).
 */
export function observeRequest(
  req: IncomingMessage,
  res: ServerResponse,
  logger: Logger,
  handle: (log: Logger) => Promise<void>,
): Promise<void> {
  const requestId = requestIdOf(req);
  res.setHeader(REQUEST_ID_HEADER, requestId);
  const log = logger.child({ requestId });
  const path = (req.url ?? '/').split('?')[0]!;
  const started = process.hrtime.bigint();
  const parent = propagation.extract(context.active(), req.headers);
  const span = trace.getTracer('consent-subgraph').startSpan(
    `${req.method ?? 'GET'} ${path}`,
    { kind: SpanKind.SERVER, attributes: { 'http.request.method': req.method ?? 'GET', 'url.path': path, 'consent.request_id': requestId } },
    parent,
  );
  res.once('close', () => {
    const durationMs = Number(process.hrtime.bigint() - started) / 1e6;
    span.setAttribute('http.response.status_code', res.statusCode);
    if (res.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
    span.end();
    // uploadAborted: the client hung up before sending its whole body, so `status` never reached it.
    const aborted = req.complete ? {} : { uploadAborted: true };
    const line = { method: req.method, path, status: res.statusCode, durationMs: Math.round(durationMs * 10) / 10, completed: res.writableFinished, ...aborted };
    if (path.startsWith('/health/')) log.debug(line, 'request');
    else log.info(line, 'request');
  });
  return current.run(log, () => context.with(trace.setSpan(parent, span), () => handle(log)));
}
