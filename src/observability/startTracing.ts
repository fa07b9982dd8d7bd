import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';

/** Where and as whom spans are exported. */
export interface TracingOptions {
  /** OTLP/HTTP base URL, such as `http://collector:4318`; spans go to `<endpoint>/v1/traces`. */
  readonly endpoint: string;
  readonly serviceName: string;
}

/** A running tracer provider. */
export interface Tracing {
  /** Exports every finished span now. */
  flush(): Promise<void>;
  /** Flushes the spans still buffered and stops; never rejects, and gives up after 5 s (collector down). */
  stop(): Promise<void>;
}

/**
 * Registers a global tracer provider exporting OTLP/HTTP (JSON) to `endpoint`. Until this is
 * called the OpenTelemetry API is a no-op, so with tracing off nothing is recorded or sent.
 * Spans: one per HTTP request (honouring `traceparent`), one per GraphQL operation, one per
 * database command (from the driver's command events).
 */
export function startTracing(options: TracingOptions): Tracing {
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ 'service.name': options.serviceName }),
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ url: `${options.endpoint.replace(/\/+$/, '')}/v1/traces` }))],
  });
  provider.register();
  return {
    flush: () => provider.forceFlush(),
    stop: async () => {
      // An unreachable collector must not turn a clean shutdown into a crash or a hang.
      let timer: NodeJS.Timeout | undefined;
      const gaveUp = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, 5000);
      });
      await Promise.race([provider.shutdown().catch(() => {}), gaveUp]);
      clearTimeout(timer);
    },
  };
}
