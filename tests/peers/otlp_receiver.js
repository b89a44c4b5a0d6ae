#!/usr/bin/env node
// An OTLP trace receiver for interop tests, built on OpenTelemetry's and
// gRPC's own JavaScript packages: @grpc/grpc-js + @grpc/proto-loader serve
// TraceService/Export, protobufjs decodes OTLP/HTTP protobuf and validates
// OTLP/HTTP JSON, all against the official OTLP .proto files shipped in
// @opentelemetry/exporter-collector-grpc@0.25.0 (old names: field 2 of
// ResourceSpans is instrumentation_library_spans; same wire format).
//
// Every accepted request is appended to --out as one JSON line in OTLP/JSON
// form (lowerCamelCase, hex ids, 64-bit ints as strings, enums as numbers,
// current names scopeSpans/scope). Every attempt (accepted or failed on
// purpose) is appended to --log as one JSON line.
//
// Usage: otlp_receiver.js [--host 127.0.0.1] [--grpc-port N] [--http-port N]
//          --out FILE [--log FILE] [--ready-file FILE]
//          [--fail-grpc CODE[:COUNT]] [--retry-delay-ms MS]
//          [--fail-http STATUS[:COUNT[:RETRY_AFTER]]] [--fail-message TEXT]
//          [--reject-spans N] [--delay-ms MS[:COUNT]]
//          [--tls-cert PEM --tls-key PEM [--tls-client-ca PEM]]
// Port 0 picks a free port; a fixed port is bound with SO_REUSEADDR, so a
// receiver restarted on the port of one that died (or was killed) binds it
// again at once. --ready-file receives {"grpc":P,"http":P,"pid":PID} only
// after every server listens (written to FILE.tmp, then renamed). --out and
// --log are appended to (a restarted receiver continues the same files), one
// synchronous write per request, so a receiver killed with SIGKILL keeps every
// request it had accepted. COUNT defaults to 1 ("-1" = always).
//
// --delay-ms: the first COUNT requests are answered only after MS ms (a
// backend slower than the client's timeout). Such a request is decoded and
// recorded when it arrives, as a backend that stores first and answers late
// would; its attempt line says "delayedMs". A client that gave up meanwhile
// will typically send it again: expect it twice in --out.
//
// TLS: with --tls-cert/--tls-key (PEM) both gRPC and HTTP serve TLS only
// (no plain text on the same port). --tls-client-ca (PEM CAs) makes them
// require a client certificate signed by one of those CAs; a handshake
// without one, or with one from another CA, is refused before any request.
'use strict';

const fs = require('fs');
const path = require('path');
const zlib = require('zlib');
const http = require('http');
const https = require('https');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');
const protobuf = require('protobufjs');

function parseArgs(argv) {
  const opts = {host: '127.0.0.1', failMessage: 'induced failure', rejectSpans: 0};
  for (let i = 0; i < argv.length; i++) {
    const key = argv[i];
    const val = argv[i + 1];
    const need = () => {
      if (val === undefined) throw new Error(`${key} needs a value`);
      i++;
      return val;
    };
    switch (key) {
      case '--host': opts.host = need(); break;
      case '--grpc-port': opts.grpcPort = Number(need()); break;
      case '--http-port': opts.httpPort = Number(need()); break;
      case '--out': opts.out = need(); break;
      case '--log': opts.log = need(); break;
      case '--ready-file': opts.readyFile = need(); break;
      case '--fail-grpc': {
        const [code, count] = need().split(':');
        if (!(code in grpc.status)) throw new Error(`unknown gRPC code ${code}`);
        opts.failGrpc = {code, left: count === undefined ? 1 : Number(count)};
        break;
      }
      case '--retry-delay-ms': opts.retryDelayMs = Number(need()); break;
      case '--fail-http': {
        const [status, count, retryAfter] = need().split(':');
        opts.failHttp = {status: Number(status), left: count === undefined ? 1 : Number(count),
                         retryAfter};
        break;
      }
      case '--fail-message': opts.failMessage = need(); break;
      case '--reject-spans': opts.rejectSpans = Number(need()); break;
      case '--delay-ms': {
        const [ms, count] = need().split(':');
        opts.delay = {ms: Number(ms), left: count === undefined ? 1 : Number(count)};
        if (!(opts.delay.ms >= 0)) throw new Error(`bad --delay-ms ${ms}`);
        break;
      }
      case '--tls-cert': opts.tlsCert = need(); break;
      case '--tls-key': opts.tlsKey = need(); break;
      case '--tls-client-ca': opts.tlsClientCa = need(); break;
      default: throw new Error(`unknown argument ${key}`);
    }
  }
  if (!opts.out) throw new Error('--out FILE is required');
  if (opts.grpcPort === undefined && opts.httpPort === undefined) {
    throw new Error('give --grpc-port and/or --http-port');
  }
  if (Boolean(opts.tlsCert) !== Boolean(opts.tlsKey)) {
    throw new Error('--tls-cert and --tls-key go together');
  }
  if (opts.tlsClientCa && !opts.tlsCert) throw new Error('--tls-client-ca needs --tls-cert');
  return opts;
}

const opts = parseArgs(process.argv.slice(2));
const protoDir = path.join(
    path.dirname(require.resolve('@opentelemetry/exporter-collector-grpc/package.json')),
    'build', 'protos');
const serviceProto = 'opentelemetry/proto/collector/trace/v1/trace_service.proto';

// protobufjs view of the same files, for OTLP/HTTP.
const root = new protobuf.Root();
root.resolvePath = (origin, target) => path.join(protoDir, target);
root.loadSync(serviceProto);
const RequestType = root.lookupType('opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest');

// ------------------------------------------------------------- conversions

const ID_KEYS = new Set(['traceId', 'spanId', 'parentSpanId']);
const toHex = (b) => Buffer.from(b).toString('hex');

// Decoded object (old names, Buffers) -> OTLP/JSON object (current names, hex ids).
function normalize(value, key) {
  if (Buffer.isBuffer(value) || value instanceof Uint8Array) {
    return ID_KEYS.has(key) ? toHex(value) : Buffer.from(value).toString('base64');
  }
  if (Array.isArray(value)) return value.map((v) => normalize(v, key));
  if (value && typeof value === 'object') {
    const out = {};
    for (const [k, v] of Object.entries(value)) {
      if (k === 'deprecatedCode') continue;
      const name = k === 'instrumentationLibrarySpans' ? 'scopeSpans'
                 : k === 'instrumentationLibrary' ? 'scope' : k;
      out[name] = normalize(v, k);
    }
    return out;
  }
  return value;
}

// OTLP/JSON object -> protobufjs plain object of the old protos: hex ids to
// bytes (the OTLP JSON rule), current names to old ones.
function denormalize(value, key) {
  if (typeof value === 'string' && ID_KEYS.has(key)) {
    if (!/^([0-9a-fA-F]{2})*$/.test(value)) throw new Error(`${key} is not hex: ${value}`);
    return Buffer.from(value, 'hex');
  }
  if (Array.isArray(value)) return value.map((v) => denormalize(v, key));
  if (value && typeof value === 'object') {
    const out = {};
    for (const [k, v] of Object.entries(value)) {
      const name = k === 'scopeSpans' ? 'instrumentationLibrarySpans'
                 : k === 'scope' ? 'instrumentationLibrary' : k;
      out[name] = denormalize(v, k);
    }
    return out;
  }
  return value;
}

const TO_OBJECT = {longs: String, enums: Number, bytes: Buffer, defaults: false, oneofs: false};

// google.rpc.Status {code = 1; message = 2; details = 3 (Any)}, with an
// optional google.rpc.RetryInfo detail, hand-encoded with protobufjs' Writer.
function encodeRpcStatus(code, message, retryDelayMs) {
  const w = protobuf.Writer.create();
  w.uint32((1 << 3) | 0).int32(code);
  w.uint32((2 << 3) | 2).string(message);
  if (retryDelayMs !== undefined) {
    const dur = protobuf.Writer.create();
    dur.uint32((1 << 3) | 0).int64(Math.floor(retryDelayMs / 1000));
    dur.uint32((2 << 3) | 0).int32((retryDelayMs % 1000) * 1e6);
    const info = protobuf.Writer.create();
    info.uint32((1 << 3) | 2).bytes(dur.finish());
    const any = protobuf.Writer.create();
    any.uint32((1 << 3) | 2).string('type.googleapis.com/google.rpc.RetryInfo');
    any.uint32((2 << 3) | 2).bytes(info.finish());
    w.uint32((3 << 3) | 2).bytes(any.finish());
  }
  return Buffer.from(w.finish());
}

// ExportTraceServiceResponse with partial_success (field 1; newer than the
// 0.25.0 protos, so encoded by hand): {rejected_spans = 1; error_message = 2}.
function encodeResponse(rejected) {
  const w = protobuf.Writer.create();
  if (rejected > 0) {
    const ps = protobuf.Writer.create();
    ps.uint32((1 << 3) | 0).int64(rejected);
    ps.uint32((2 << 3) | 2).string(`rejected ${rejected} spans`);
    w.uint32((1 << 3) | 2).bytes(ps.finish());
  }
  return Buffer.from(w.finish());
}

function record(request) {
  fs.appendFileSync(opts.out, JSON.stringify(normalize(request)) + '\n');
}

function logAttempt(entry) {
  if (opts.log) fs.appendFileSync(opts.log, JSON.stringify(entry) + '\n');
}

// PEM contents of the TLS options (read once), or null for plain text.
const tls = opts.tlsCert ? {
  cert: fs.readFileSync(opts.tlsCert),
  key: fs.readFileSync(opts.tlsKey),
  clientCa: opts.tlsClientCa ? fs.readFileSync(opts.tlsClientCa) : null,
} : null;

// Calls `answer` now, or after --delay-ms for the first COUNT requests.
// Returns the delay applied (0 = none).
// Logs the accepted attempt, then answers (after --delay-ms when that applies).
// Logging first: a client that got the answer always finds its attempt logged.
function answerAccepted(entry, okAnswer, answer) {
  const delayed = takeFailure(opts.delay);
  logAttempt(delayed ? {...entry, answer: okAnswer, delayedMs: opts.delay.ms}
                     : {...entry, answer: okAnswer});
  if (delayed) setTimeout(answer, opts.delay.ms);
  else answer();
}

function takeFailure(f) {
  if (!f || f.left === 0) return false;
  if (f.left > 0) f.left--;
  return true;
}

// ------------------------------------------------------------------- gRPC

function startGrpc() {
  return new Promise((resolve, reject) => {
    const def = protoLoader.loadSync(serviceProto, {includeDirs: [protoDir], keepCase: false,
                                                     longs: String, enums: Number, bytes: Buffer,
                                                     defaults: false, oneofs: false});
    const service = def['opentelemetry.proto.collector.trace.v1.TraceService'];
    service.Export.responseSerialize = (rejected) => encodeResponse(rejected);
    const server = new grpc.Server();
    server.addService(service, {
      Export(call, callback) {
        const md = call.metadata.getMap();
        const entry = {transport: 'grpc', headers: md,
                       encoding: md['grpc-encoding'] || 'identity'};
        if (takeFailure(opts.failGrpc)) {
          const err = {code: grpc.status[opts.failGrpc.code], details: opts.failMessage};
          if (opts.retryDelayMs !== undefined) {
            err.metadata = new grpc.Metadata();
            err.metadata.set('grpc-status-details-bin',
                             encodeRpcStatus(err.code, opts.failMessage, opts.retryDelayMs));
          }
          logAttempt({...entry, answer: opts.failGrpc.code});
          callback(err);
          return;
        }
        record(call.request);
        answerAccepted(entry, 'OK', () => callback(null, opts.rejectSpans));
      },
    });
    // checkClientCertificate = true: grpc-js (Node's TLS) then requests a
    // client certificate and refuses handshakes without a valid one.
    const creds = tls
        ? grpc.ServerCredentials.createSsl(tls.clientCa, [{private_key: tls.key, cert_chain: tls.cert}],
                                           tls.clientCa !== null)
        : grpc.ServerCredentials.createInsecure();
    server.bindAsync(`${opts.host}:${opts.grpcPort}`, creds,
                     (err, port) => (err ? reject(err) : resolve(port)));
  });
}

// ------------------------------------------------------------------- HTTP

function startHttp() {
  const handler = (req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const type = (req.headers['content-type'] || '').split(';')[0].trim();
      const json = type === 'application/json';
      const entry = {transport: 'http', path: req.url, contentType: type,
                     encoding: req.headers['content-encoding'] || 'identity',
                     headers: req.headers};
      const answer = (status, body, extra = {}) => {
        res.writeHead(status, {'Content-Type': json ? 'application/json' : 'application/x-protobuf',
                               ...extra});
        res.end(body);
      };
      const fail = (status, message, extra) => {
        logAttempt({...entry, answer: status, message});
        const body = json ? JSON.stringify({code: 3, message})
                          : encodeRpcStatus(status === 400 ? 3 : 14, message);
        answer(status, body, extra);
      };
      if (req.method !== 'POST' || req.url !== '/v1/traces') {
        fail(404, `no such endpoint ${req.method} ${req.url}`);
        return;
      }
      if (takeFailure(opts.failHttp)) {
        const extra = opts.failHttp.retryAfter ? {'Retry-After': opts.failHttp.retryAfter} : {};
        fail(opts.failHttp.status, opts.failMessage, extra);
        return;
      }
      let body = Buffer.concat(chunks);
      let decoded;
      try {
        if (entry.encoding === 'gzip') body = zlib.gunzipSync(body);
        else if (entry.encoding !== 'identity') throw new Error(`unsupported encoding ${entry.encoding}`);
        if (json) {
          decoded = RequestType.toObject(
              RequestType.fromObject(denormalize(JSON.parse(body.toString('utf8')))), TO_OBJECT);
        } else if (type === 'application/x-protobuf') {
          decoded = RequestType.toObject(RequestType.decode(body), TO_OBJECT);
        } else {
          throw new Error(`unsupported content type "${type}"`);
        }
      } catch (e) {
        fail(400, `cannot decode request: ${e.message}`);
        return;
      }
      record(decoded);
      answerAccepted(entry, 200, () => {
        if (json) {
          const r = opts.rejectSpans > 0
              ? {partialSuccess: {rejectedSpans: String(opts.rejectSpans),
                                  errorMessage: `rejected ${opts.rejectSpans} spans`}}
              : {};
          answer(200, JSON.stringify(r));
        } else {
          answer(200, encodeResponse(opts.rejectSpans));
        }
      });
    });
  };
  const server = tls
      ? https.createServer({cert: tls.cert, key: tls.key, ca: tls.clientCa || undefined,
                            requestCert: tls.clientCa !== null,
                            rejectUnauthorized: tls.clientCa !== null}, handler)
      : http.createServer(handler);
  if (tls) {
    server.on('tlsClientError', (e) => {
      logAttempt({transport: 'http', answer: 'tls-refused', message: e.message});
    });
  }
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.httpPort, opts.host, () => resolve(server.address().port));
  });
}

async function main() {
  const ports = {pid: process.pid};
  if (opts.grpcPort !== undefined) ports.grpc = await startGrpc();
  if (opts.httpPort !== undefined) ports.http = await startHttp();
  fs.closeSync(fs.openSync(opts.out, 'a'));
  if (opts.readyFile) {
    fs.writeFileSync(opts.readyFile + '.tmp', JSON.stringify(ports));
    fs.renameSync(opts.readyFile + '.tmp', opts.readyFile);
  }
  process.stderr.write(`otlp_receiver: listening ${JSON.stringify(ports)}\n`);
}

process.on('SIGTERM', () => process.exit(0));
process.on('SIGINT', () => process.exit(0));
main().catch((e) => {
  process.stderr.write(`otlp_receiver: ${e.stack || e}\n`);
  process.exit(1);
});
