// OpenTelemetry semantic-convention attribute keys the project writes and
// reads, in one place (semconv v1.26, https://opentelemetry.io/docs/specs/
// semconv/; the syscall.* keys are this project's own, DESIGN.md "Spans").
// Keys ending in '.' are prefixes (the header name follows, lower-cased).
#ifndef TRACER_OTLP_SEMCONV_H_
#define TRACER_OTLP_SEMCONV_H_

namespace tracer::otlp::semconv {

// Resource attributes (semconv resource/*.md).
inline constexpr char kServiceName[] = "service.name";
inline constexpr char kHostName[] = "host.name";
inline constexpr char kOsType[] = "os.type";
inline constexpr char kProcessPid[] = "process.pid";
inline constexpr char kProcessParentPid[] = "process.parent_pid";
inline constexpr char kProcessExecutableName[] = "process.executable.name";
inline constexpr char kProcessExecutablePath[] = "process.executable.path";
inline constexpr char kProcessCommandLine[] = "process.command_line";
inline constexpr char kTelemetrySdkName[] = "telemetry.sdk.name";
inline constexpr char kTelemetrySdkLanguage[] = "telemetry.sdk.language";
inline constexpr char kTelemetrySdkVersion[] = "telemetry.sdk.version";

// Process spans (semconv process.md).
inline constexpr char kProcessExitCode[] = "process.exit.code";

// Syscall spans (this project's syscall.* namespace; thread.id is semconv's).
inline constexpr char kSyscallName[] = "syscall.name";
inline constexpr char kSyscallNumber[] = "syscall.number";
inline constexpr char kSyscallArgs[] = "syscall.args";
inline constexpr char kSyscallResult[] = "syscall.result";
inline constexpr char kSyscallDurationUs[] = "syscall.duration_us";
inline constexpr char kThreadId[] = "thread.id";

// HTTP spans (stable HTTP semantic conventions, trace/http/http-spans.md).
inline constexpr char kHttpRequestMethod[] = "http.request.method";
inline constexpr char kHttpRequestMethodOriginal[] = "http.request.method_original";
inline constexpr char kHttpResponseStatusCode[] = "http.response.status_code";
inline constexpr char kHttpRequestBodySize[] = "http.request.body.size";
inline constexpr char kHttpResponseBodySize[] = "http.response.body.size";
inline constexpr char kHttpRequestHeaderPrefix[] = "http.request.header.";
inline constexpr char kHttpResponseHeaderPrefix[] = "http.response.header.";
inline constexpr char kUrlPath[] = "url.path";
inline constexpr char kUrlQuery[] = "url.query";
inline constexpr char kUrlScheme[] = "url.scheme";
inline constexpr char kUrlFull[] = "url.full";
inline constexpr char kServerAddress[] = "server.address";
inline constexpr char kServerPort[] = "server.port";
inline constexpr char kClientAddress[] = "client.address";
inline constexpr char kClientPort[] = "client.port";
inline constexpr char kNetworkPeerAddress[] = "network.peer.address";
inline constexpr char kNetworkPeerPort[] = "network.peer.port";
inline constexpr char kNetworkProtocolVersion[] = "network.protocol.version";
inline constexpr char kUserAgentOriginal[] = "user_agent.original";
inline constexpr char kErrorType[] = "error.type";
inline constexpr char kExceptionMessage[] = "exception.message";

}  // namespace tracer::otlp::semconv

#endif  // TRACER_OTLP_SEMCONV_H_
