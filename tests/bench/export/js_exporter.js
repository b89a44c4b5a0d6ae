#!/usr/bin/env node
// The peer of export_throughput.cc: the OpenTelemetry JavaScript SDK's OTLP
// trace exporters (@opentelemetry/exporter-trace-otlp-grpc and
// -proto, with @opentelemetry/sdk-trace-base's span model; installed by
// tests/peers/install.sh) sending the same agent-like spans
// (agent_like_spans.h: one resource with 8 attributes, one scope, 10
// attributes per span, 3 of 4 syscall spans and 1 of 4 HTTP server spans,
// 16-byte trace ids) in requests of the same size, one request at a time,
// to the same receiver. The spans are built before timing as finished
// ReadableSpan objects (what a BatchSpanProcessor hands its exporter), so
// what is timed is exporter.export(): the OTLP transform, protobuf
// serialization, compression, transport and the receiver's answer.
//
// Prints one JSON line with the fields of export_throughput.cc
// (impl "js-sdk"); cpu_s is process.cpuUsage() (user+sys, all threads) over
// the timed loop, peak_rss_kb is process.resourceUsage().maxRSS.
//
// Usage (NODE_PATH=<peers>/node_modules):
//   js_exporter.js --protocol grpc|http/protobuf --endpoint URL
//     [--gzip] [--spans-per-request 512] [--spans 262144] [--distinct 4]
//     [--warmup-requests 2]
'use strict';

const path = require('path');

function parseArgs(argv) {
  const o = {protocol: 'grpc', gzip: false, perRequest: 512, spans: 262144, distinct: 4,
             warmup: 2};
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    const v = () => {
      if (argv[i + 1] === undefined) throw new Error(`${k} needs a value`);
      return argv[++i];
    };
    switch (k) {
      case '--protocol': o.protocol = v(); break;
      case '--endpoint': o.endpoint = v(); break;
      case '--gzip': o.gzip = true; break;
      case '--spans-per-request': o.perRequest = Number(v()); break;
      case '--spans': o.spans = Number(v()); break;
      case '--distinct': o.distinct = Number(v()); break;
      case '--warmup-requests': o.warmup = Number(v()); break;
      default: throw new Error(`unknown argument ${k}`);
    }
  }
  if (!o.endpoint) throw new Error('--endpoint is required');
  return o;
}

// sdk-trace-base 2.x brings its own @opentelemetry/resources 2.x (an older
// one may be hoisted for the interop receiver's packages): resolve it from
// there.
function requireBeside(pkg, name) {
  const base = path.dirname(require.resolve(`${pkg}/package.json`));
  return require(require.resolve(name, {paths: [base]}));
}

const opts = parseArgs(process.argv.slice(2));
const {resourceFromAttributes} = requireBeside('@opentelemetry/sdk-trace-base',
                                               '@opentelemetry/resources');
const {OTLPTraceExporter} = opts.protocol === 'grpc'
    ? require('@opentelemetry/exporter-trace-otlp-grpc')
    : require('@opentelemetry/exporter-trace-otlp-proto');

// A small deterministic PRNG (xorshift64*), so runs are repeatable.
function rng(seed) {
  let x = BigInt(seed) * 0x9E3779B97F4A7C15n & 0xFFFFFFFFFFFFFFFFn || 1n;
  return () => {
    x ^= x >> 12n; x ^= (x << 25n) & 0xFFFFFFFFFFFFFFFFn; x ^= x >> 27n;
    return Number(((x * 0x2545F4914F6CDD1Dn) & 0xFFFFFFFFFFFFFFFFn) >> 11n);
  };
}
const hex = (r, bytes) => {
  let s = '';
  while (s.length < bytes * 2) s += r().toString(16).padStart(14, '0').slice(-14);
  return s.slice(0, bytes * 2);
};
const SYSCALLS = ['read', 'write', 'openat', 'close', 'fstat', 'mmap', 'recvfrom', 'sendto'];
const SpanKind = {INTERNAL: 0, SERVER: 1};

function makeBatch(n, seed, startNs) {
  const r = rng(seed);
  const pid = 1000 + (seed % 30000);
  const resource = resourceFromAttributes({
    'service.name': 'nginx', 'host.name': 'node-17.example.internal', 'os.type': 'linux',
    'process.pid': pid, 'process.parent_pid': 1, 'process.executable.path': '/usr/sbin/nginx',
    'process.command_line': 'nginx: worker process', 'telemetry.sdk.name': 'tracer',
  });
  const scope = {name: 'tracer-agent', version: '0.1'};
  const spans = [];
  let traceId, rootId;
  for (let i = 0; i < n; i++) {
    let spanId, parent;
    if (i % 8 === 0) {
      traceId = hex(r, 16);
      rootId = hex(r, 8);
      spanId = rootId;
    } else {
      spanId = hex(r, 8);
      parent = {traceId, spanId: rootId, traceFlags: 1};
    }
    const startNsI = startNs + BigInt(i) * 1000n;
    const durNs = 2000 + (r() % 500000);
    const endNsI = startNsI + BigInt(durNs);
    const hr = (ns) => [Number(ns / 1000000000n), Number(ns % 1000000000n)];
    let name, kind, attributes, status = {code: 0};
    if (i % 4 === 3) {
      const item = r() % 10000;
      name = `GET /api/items/${item}`;
      kind = SpanKind.SERVER;
      attributes = {
        'http.request.method': 'GET', 'url.path': `/api/items/${item}`, 'url.scheme': 'http',
        'http.response.status_code': 200, 'server.address': '10.0.3.17', 'server.port': 8080,
        'client.address': '10.0.7.201', 'network.peer.address': '10.0.7.201',
        'network.protocol.version': '1.1', 'user_agent.original': 'curl/7.88.1',
      };
    } else {
      const which = r() % 8;
      const fd = 3 + (r() % 60);
      const failed = i % 16 === 5;
      name = SYSCALLS[which];
      kind = SpanKind.INTERNAL;
      attributes = {
        'syscall.name': SYSCALLS[which], 'syscall.number': which,
        'syscall.args': `${fd}, "GET /api/items HTTP/1.1\\r\\nHost: ...", 4096`,
        'syscall.result': failed ? -2 : r() % 4096, 'syscall.duration_us': Math.floor(durNs / 1000),
        'thread.id': pid + (r() % 4), 'process.pid': pid, 'process.executable.name': 'nginx',
        'fd.path': `socket:[${40000 + fd}]`, 'tracer.session.id': 's-7f3a9c',
      };
      if (failed) status = {code: 2, message: 'ENOENT'};
    }
    const ctx = {traceId, spanId, traceFlags: 1};
    spans.push({
      name, kind, spanContext: () => ctx, parentSpanContext: parent,
      startTime: hr(startNsI), endTime: hr(endNsI), duration: hr(BigInt(durNs)), ended: true,
      status, attributes, links: [], events: [], resource, instrumentationScope: scope,
      droppedAttributesCount: 0, droppedEventsCount: 0, droppedLinksCount: 0,
    });
  }
  return spans;
}

function exportOnce(exporter, spans) {
  return new Promise((resolve, reject) => {
    exporter.export(spans, (result) => {
      if (result.code === 0) resolve();
      else reject(result.error || new Error(`export failed with code ${result.code}`));
    });
  });
}

async function main() {
  const exporter = new OTLPTraceExporter({
    url: opts.endpoint, compression: opts.gzip ? 'gzip' : 'none', timeoutMillis: 60000,
  });
  const t0 = BigInt(Date.now()) * 1000000n;
  const batches = [];
  for (let i = 0; i < opts.distinct; i++) {
    batches.push(makeBatch(opts.perRequest, 1 + i, t0 + BigInt(i * opts.perRequest) * 1000n));
  }
  for (let i = 0; i < opts.warmup; i++) await exportOnce(exporter, batches[i % batches.length]);

  const n = Math.ceil(opts.spans / opts.perRequest);
  const cpu0 = process.cpuUsage();
  const wall0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) await exportOnce(exporter, batches[i % batches.length]);
  const wall = Number(process.hrtime.bigint() - wall0) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  await exporter.shutdown();
  const user = cpu.user / 1e6;
  const sys = cpu.system / 1e6;
  const spans = n * opts.perRequest;
  process.stdout.write(JSON.stringify({
    impl: 'js-sdk', protocol: opts.protocol, gzip: opts.gzip, spans_per_request: opts.perRequest,
    requests: n, spans, wall_s: wall, cpu_s: user + sys, user_s: user, sys_s: sys,
    spans_per_s: spans / wall, spans_per_cpu_s: spans / Math.max(1e-9, user + sys),
    peak_rss_kb: process.resourceUsage().maxRSS,
  }) + '\n');
}

main().catch((e) => {
  process.stderr.write(`js_exporter: ${e.stack || e}\n`);
  process.exit(1);
});
