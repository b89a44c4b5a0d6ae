// An HTTP client instrumented with the OpenTelemetry JavaScript SDK (the
// real @opentelemetry/sdk-trace-node and @opentelemetry/instrumentation-http):
// GETs each URL given on the command line, one after another, with the W3C
// traceparent the SDK injects, and prints one JSON line per CLIENT span the
// SDK recorded: {"url", "status", "trace_id", "span_id", "parent_span_id",
// "kind"} (ids in lower-case hex), read from the SDK's in-memory exporter.
// Usage: NODE_PATH=PEERS/node_modules node otel_client.js URL...
'use strict';

const { NodeTracerProvider } = require('@opentelemetry/sdk-trace-node');
const { InMemorySpanExporter, SimpleSpanProcessor } = require('@opentelemetry/sdk-trace-base');
const { registerInstrumentations } = require('@opentelemetry/instrumentation');
const { HttpInstrumentation } = require('@opentelemetry/instrumentation-http');
const { SpanKind } = require('@opentelemetry/api');

const exporter = new InMemorySpanExporter();
const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
provider.register();
registerInstrumentations({ instrumentations: [new HttpInstrumentation()] });

// Required after the instrumentation is registered, so it is patched.
const http = require('http');

function get(url) {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode));
    });
    req.on('error', reject);
  });
}

async function main() {
  const urls = process.argv.slice(2);
  if (urls.length === 0) {
    console.error('usage: otel_client.js URL...');
    process.exit(2);
  }
  for (const url of urls) await get(url);
  await provider.forceFlush();
  for (const s of exporter.getFinishedSpans()) {
    if (s.kind !== SpanKind.CLIENT) continue;
    const ctx = s.spanContext();
    const attrs = s.attributes;
    console.log(JSON.stringify({
      url: attrs['http.url'] || attrs['url.full'] || '',
      status: attrs['http.status_code'] || attrs['http.response.status_code'] || 0,
      trace_id: ctx.traceId,
      span_id: ctx.spanId,
      parent_span_id: s.parentSpanContext ? s.parentSpanContext.spanId : (s.parentSpanId || ''),
      kind: 'CLIENT',
    }));
  }
  await provider.shutdown();
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
