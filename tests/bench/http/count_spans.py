"""Counts spans in a `tracectl run --output FILE` file.

The file holds OTLP JSON lines, one ExportTraceServiceRequest per line
(OTLP/JSON encoding of opentelemetry.proto.collector.trace.v1; span kind is
the enum's number, SPAN_KIND_SERVER = 2). Every line is parsed in full, so a
malformed line fails the count instead of being skipped.
"""
import collections
import json

SPAN_KIND_SERVER = 2


def _attr(span, key):
    for a in span.get("attributes", ()):
        if a.get("key") == key:
            v = a.get("value", {})
            for k in ("stringValue", "intValue", "boolValue", "doubleValue"):
                if k in v:
                    return v[k]
    return None


def count_spans(path, url_path=None):
    """Returns a dict:
      server:        SERVER spans
      server_ok:     SERVER spans with url.path == url_path (if given) and
                     http.response.status_code 200
      server_error:  SERVER spans with status code ERROR (e.g. "timeout")
      by_kind:       {kind number: spans}
      lines:         lines read
    """
    by_kind = collections.Counter()
    server = server_ok = server_error = lines = 0
    with open(path, "rb") as f:
        for line in f:
            if not line.strip():
                continue
            lines += 1
            req = json.loads(line)
            for rs in req.get("resourceSpans", ()):
                for ss in rs.get("scopeSpans", ()):
                    for span in ss.get("spans", ()):
                        kind = int(span.get("kind", 0))
                        by_kind[kind] += 1
                        if kind != SPAN_KIND_SERVER:
                            continue
                        server += 1
                        if span.get("status", {}).get("code") in (2, "STATUS_CODE_ERROR"):
                            server_error += 1
                        status = _attr(span, "http.response.status_code")
                        if (url_path is None or _attr(span, "url.path") == url_path) and \
                                status is not None and int(status) == 200:
                            server_ok += 1
    return {"server": server, "server_ok": server_ok, "server_error": server_error,
            "by_kind": dict(by_kind), "lines": lines}
