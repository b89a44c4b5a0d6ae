// RemoteUsage (remote_options.h): `tracectl help remote`.
#include "ctl/remote/remote_options.h"

namespace tracer::ctl::remote {

const char* RemoteUsage() {
  return R"(Usage: tracectl session start TARGET [CAPTURE] [SAMPLING] [LIMITS] [CONNECTION]
       tracectl session stop SESSION_ID
       tracectl session list [--all]
       tracectl session show SESSION_ID
       tracectl traces list [--since 10m] [--service NAME] [--limit N]
       tracectl traces show TRACE_ID
       tracectl agents list
       tracectl exporters add NAME --endpoint URL [EXPORTER FLAGS]
       tracectl exporters remove NAME
       tracectl exporters list
       tracectl status

Remote sessions: the control plane pushes the session to the selected agents,
which trace the target and upload spans. Viewers may list and show; starting
and stopping sessions needs an operator (or admin) certificate.

session start:
  --nodes all|NAME[,NAME...]|label=KEY=VALUE[,KEY=VALUE...]   (default all)
  Target, exactly one of:
    --pid N | --cgroup PATH | --comm NAME | --all-processes
  Capture:
    --syscall-class C          a strace class: file, desc, network, process, signal, ipc,
                               memory, creds, clock, pure, stat, statfs, ...
                               (repeatable); -e trace=NAME,%CLASS,... likewise
    --filter-duration-gt US    keep syscalls slower than US microseconds
    -f, --follow-forks         also trace children of targets
    --http                     HTTP SERVER/CLIENT spans
  Sampling (deterministic on the trace id, so every node agrees):
    --sampler always_on|always_off|traceidratio|parentbased_always_on|
              parentbased_always_off|parentbased_traceidratio   (default always_on)
    --sampler-arg R            ratio 0..1 for the *traceidratio samplers (default 1)
  Limits:
    --duration D               e.g. 90s, 10m, 2h (default: until stopped)
    --max-spans N              per agent
    --name NAME                a label for humans (<= 128 bytes)

exporters: the OTLP backends the control plane delivers every span to (each
with its own queue cursor: a dead backend catches up later). Adding and
removing needs an admin certificate; header values are secrets and are never
shown again.
  add NAME (1..64 of a-z 0-9 _ . -)
    --endpoint URL             grpc: [http://|https://]host:port (default port
                               4317); http/*: http(s)://host[:port][/path],
                               "/v1/traces" appended when there is no path
    --protocol P               grpc (default), http/protobuf, http/json
    --header KEY=VALUE         request header / gRPC metadata (repeatable)
    --header-from-env KEY=VAR  the same, value read from $VAR (keeps tokens
                               out of the command line and shell history)
    --compression none|gzip    (default none)
    --timeout D                per export attempt, 1ms..10m (default 10s)
    --ca FILE                  CA bundle that verifies the backend (default:
                               system roots); absolute path on the control
                               plane host, like --client-cert/--client-key
    --client-cert FILE --client-key FILE   mutual TLS with the backend
    --backend-insecure         grpc endpoint without scheme: plain text
                               (--insecure is tracectl's own connection)
    --max-batch-spans N        spans per request (default 8192)
    --max-batch-bytes N        bytes per request (default 4194304)
    --breaker-failures N       consecutive failures that open the circuit (5)
    --breaker-open-for D       wait before the half-open probe (30s)
    --retry-initial D          first wait after a retryable failure (5s)
    --retry-max D              longest wait between attempts (30s)
    --replace                  replace an exporter of the same name
  remove NAME                  stop it and drop its queue cursor
  list                         name, protocol, endpoint, version, source and
                               header keys

Connection (every command):
  --server HOST:PORT   control plane (default $TRACER_SERVER or localhost:7443)
  --certs DIR          certificate directory (default $TRACER_CERTS) holding
                       ca.pem, USER.pem and USER.key (tracectl certs issue)
  --user NAME          whose certificate to use (default $TRACER_USER or admin)
  --insecure           plain text without certificates; loopback only
)";
}

}  // namespace tracer::ctl::remote
