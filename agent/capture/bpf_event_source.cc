// Live EventSource over bpf/syscalls.bpf.c (and, with CaptureOptions::
// sockets, bpf/sockets.bpf.c). This file alone owns the libbpf skeletons and
// their phases: open -> set rodata -> load -> check ABI -> attach -> ring
// buffer. The socket program is loaded after the syscalls program so that it
// can take over its `targets` map, and attached after it so that at every
// sys_enter a process's admission has already happened.
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <fcntl.h>
#include <glog/logging.h>
#include <linux/magic.h>
#include <sys/statfs.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "agent/capture/event_source.h"
#include "agent/capture/libbpf_status.h"
#include "agent/capture/record_decoder.h"
#include "agent/capture/socket_hooks.h"
#include "agent/capture/socket_record_decoder.h"
#include "agent/capture/sockets_abi.h"
#include "agent/capture/syscalls_abi.h"
#include "bpf/sockets.skel.h"
#include "bpf/syscalls.skel.h"
#include "common/status_macros.h"

namespace tracer::capture {
namespace {

// Upper bound on one wait inside Poll() while records arrive: the kernel
// side submits syscall records without waking us (BPF_RB_NO_WAKEUP, the
// cheap path), so we look at the ring at least this often while waiting.
constexpr int kPollSliceMs = 2;
// When a slice passes with nothing in the ring, the next one is twice as
// long, up to the time the fastest producer measured (~100 MiB/s of syscall
// records, a traced dd bs=1) takes to fill a quarter of the ring, and at most
// kMaxIdleSliceMs; the first record seen returns to kPollSliceMs. An idle
// capture then wakes ~50 times a second instead of 500 (8 MiB ring: 20 ms),
// while a burst after a quiet spell still finds three quarters of the ring
// free. Process records wake the poller at once (they are submitted with
// wakeup), so a new traced process is never waited for.
constexpr int kMaxIdleSliceMs = 32;
constexpr uint64_t kFastestProducerBytesPerSec = 100u << 20;

int MaxIdleSliceMs(uint32_t ringbuf_bytes) {
  const uint64_t ms = uint64_t{ringbuf_bytes} * 1000 / 4 / kFastestProducerBytesPerSec;
  return static_cast<int>(std::clamp<uint64_t>(ms, kPollSliceMs, kMaxIdleSliceMs));
}

// libbpf's log (including the verifier's, on a load failure) goes to glog.
int LibbpfLog(enum libbpf_print_level level, const char* format, va_list args) {
  if (level == LIBBPF_DEBUG) return 0;
  va_list copy;
  va_copy(copy, args);
  const int n = std::vsnprintf(nullptr, 0, format, copy);
  va_end(copy);
  if (n <= 0) return n;
  std::string line(static_cast<size_t>(n) + 1, '\0');
  std::vsnprintf(line.data(), line.size(), format, args);
  line.resize(n);
  while (!line.empty() && line.back() == '\n') line.pop_back();
  if (level == LIBBPF_WARN) {
    LOG(WARNING) << "libbpf: " << line;
  } else {
    VLOG(1) << "libbpf: " << line;
  }
  return n;
}

// The kernel's pid_max (thread ids are below it), the size of the kernel
// program's per-thread `inflight` table. Unreadable: the largest pid_max the
// kernel allows, so that no thread falls outside.
uint32_t KernelPidMax() {
  uint32_t pid_max = SYSCALLS_TGID_LIMIT;
  if (FILE* f = std::fopen("/proc/sys/kernel/pid_max", "r")) {
    unsigned v = 0;
    if (std::fscanf(f, "%u", &v) == 1 && v > 0 && v <= SYSCALLS_TGID_LIMIT) pid_max = v;
    std::fclose(f);
  }
  return pid_max;
}

uint64_t NowMs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

struct SkeletonDeleter {
  void operator()(syscalls* s) const { syscalls__destroy(s); }
};
struct SocketsSkeletonDeleter {
  void operator()(sockets* s) const { sockets__destroy(s); }
};
struct RingBufferDeleter {
  void operator()(ring_buffer* rb) const { ring_buffer__free(rb); }
};

class BpfEventSource : public EventSource {
 public:
  static absl::StatusOr<std::unique_ptr<BpfEventSource>> Create(const CaptureOptions& options);

  absl::Status AddTarget(uint32_t tgid) override;
  absl::Status AddCommTarget(const std::string& comm) override;
  absl::StatusOr<uint64_t> AddCgroupTarget(const std::string& cgroup_path) override;
  absl::Status SetTraceAll(bool enabled) override;
  std::optional<KernelAdmission> TakeAdmission(uint32_t tgid) override;
  absl::StatusOr<int> Poll(EventSink& sink, int timeout_ms) override;
  absl::StatusOr<int> PollRaw(RawRecordSink& sink, int timeout_ms) override;
  CaptureCounters Counters() const override;
  absl::StatusOr<std::vector<SyscallTotals>> Totals() const override;

 private:
  explicit BpfEventSource(const CaptureOptions& options)
      : options_(options), max_slice_ms_(MaxIdleSliceMs(options.ringbuf_bytes)) {}

  absl::Status Configure();
  // Opens and loads bpf/sockets.bpf.c over the loaded syscalls program's
  // `targets` map (not attached yet).
  absl::Status LoadSockets();
  // trace-all and cgroup targets are admitted at a selected syscall's
  // sys_enter: an error with no syscall selected (nothing would be).
  absl::Status CheckAdmissionAtSysEnter(absl::string_view what) const;
  static int OnRecord(void* ctx, void* data, size_t size);
  static int OnSocketRecord(void* ctx, void* data, size_t size);
  // Per-CPU u64 values of the per-CPU array `map` at `reason`.
  std::vector<uint64_t> DropsPerCpu(const bpf_map* map, uint32_t reason) const;

  const CaptureOptions options_;
  // The longest wait between looks at the ring (MaxIdleSliceMs), and the
  // current one: kPollSliceMs while records arrive, doubled after each
  // empty slice up to max_slice_ms_.
  const int max_slice_ms_;
  int slice_ms_ = kPollSliceMs;
  const int ncpus_ = libbpf_num_possible_cpus();
  std::unique_ptr<syscalls, SkeletonDeleter> skel_;
  std::unique_ptr<sockets, SocketsSkeletonDeleter> sock_skel_;  // sockets only
  SocketHooks sock_hooks_ = SocketHooks::kRawTracepoints;
  // The tracepoint form's links; declared after sock_skel_ so that they go
  // first.
  SocketTracepointLinks sock_tp_links_;
  std::unique_ptr<ring_buffer, RingBufferDeleter> rb_;
  absl::StatusOr<int> PollWith(int timeout_ms);

  // Valid only during Poll()/PollRaw(); OnRecord delivers to one of them.
  EventSink* sink_ = nullptr;
  RawRecordSink* raw_sink_ = nullptr;
  uint64_t delivered_ = 0;
  uint64_t invalid_ = 0;
  // Reused for every record so decoding does not allocate.
  SyscallEvent syscall_;
  ProcessEvent process_;
  SocketRecordEvents socket_;
  // Delivered socket events (the user-space half of SocketCounters).
  SocketCounters socket_counts_;
};

absl::Status ValidateOptions(const CaptureOptions& o) {
  const uint32_t page = 4096;
  if (o.ringbuf_bytes < page || (o.ringbuf_bytes & (o.ringbuf_bytes - 1)) != 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "ring buffer size ", o.ringbuf_bytes, " must be a power of two of at least 4096 bytes"));
  }
  for (int nr : o.syscalls) {
    if (nr < 0 || nr >= bpf_abi::kMaxNr) {
      return absl::InvalidArgumentError(
          absl::StrCat("syscall number ", nr, " outside 0..", bpf_abi::kMaxNr - 1));
    }
  }
  if (o.sockets && o.socket_capture_bytes > sockets_abi::kCaptureMax) {
    return absl::InvalidArgumentError(absl::StrCat("socket capture limit ", o.socket_capture_bytes,
                                                   " bytes exceeds ", sockets_abi::kCaptureMax));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<BpfEventSource>> BpfEventSource::Create(
    const CaptureOptions& options) {
  RETURN_IF_ERROR(ValidateOptions(options));
  static std::once_flag log_once;
  std::call_once(log_once, [] { libbpf_set_print(LibbpfLog); });

  std::unique_ptr<BpfEventSource> source(new BpfEventSource(options));
  if (source->ncpus_ <= 0) return LibbpfStatus(source->ncpus_, "count possible CPUs");
  RETURN_IF_ERROR(source->Configure());
  return source;
}

absl::Status BpfEventSource::Configure() {
  // Open.
  errno = 0;
  skel_.reset(syscalls__open());
  if (!skel_) return LibbpfErrnoStatus("open BPF object");

  // Settings, fixed at load.
  auto* ro = skel_->rodata;
  ro->follow_forks = options_.follow_forks ? 1 : 0;
  ro->stats_only = options_.stats_only ? 1 : 0;
  ro->min_duration_ns = options_.min_duration_ns;
  ro->exclude_tgid =
      options_.exclude_tgid != 0 ? options_.exclude_tgid : static_cast<uint32_t>(getpid());
  // An enabled filter with an empty bitmap records no syscall (trace=none).
  ro->filter_enabled = (options_.no_syscalls || !options_.syscalls.empty()) ? 1 : 0;
  for (int w = 0; w < bpf_abi::kFilterWords; ++w) ro->syscall_filter[w] = 0;
  for (int nr : options_.syscalls) ro->syscall_filter[nr / 64] |= uint64_t{1} << (nr % 64);
  RETURN_IF_ERROR(LibbpfStatus(bpf_map__set_max_entries(skel_->maps.events, options_.ringbuf_bytes),
                               "size the ring buffer"));
  // One 8-byte slot per possible thread id (256 KiB for the default pid_max
  // of 32768). A thread created after pid_max was raised beyond it is counted
  // as missed, not traced.
  RETURN_IF_ERROR(LibbpfStatus(bpf_map__set_max_entries(skel_->maps.inflight, KernelPidMax()),
                               "size the in-flight syscall table"));

  // Load (the verifier runs here), then check what we loaded speaks our ABI.
  RETURN_IF_ERROR(LibbpfStatus(syscalls__load(skel_.get()), "load BPF programs"));
  if (skel_->rodata->abi_version != bpf_abi::kAbiVersion) {
    return absl::FailedPreconditionError(
        absl::StrCat("BPF object speaks record ABI ", skel_->rodata->abi_version,
                     ", this binary expects ", bpf_abi::kAbiVersion));
  }

  if (options_.sockets) {
    RETURN_IF_ERROR(LoadSockets());
  }

  // Attach the tracepoints. With no syscall selected (trace=none) the
  // sys_enter/sys_exit pair would stop every call at its filter: it is not
  // attached at all, so it costs nothing on every syscall of the machine.
  if (options_.no_syscalls) {
    bpf_program__set_autoattach(skel_->progs.handle_sys_enter, false);
    bpf_program__set_autoattach(skel_->progs.handle_sys_exit, false);
  }
  RETURN_IF_ERROR(LibbpfStatus(syscalls__attach(skel_.get()), "attach the syscall tracepoints"));
  if (sock_skel_) {
    RETURN_IF_ERROR(
        LibbpfStatus(sockets__attach(sock_skel_.get()), "attach the socket tracker's tracepoints"));
    if (sock_hooks_ == SocketHooks::kSyscallTracepoints) {
      RETURN_IF_ERROR(sock_tp_links_.Attach(sock_skel_->obj));
    }
  }

  // Ring buffer consumer: one manager for both programs' rings, so one
  // Poll() serves both.
  errno = 0;
  rb_.reset(
      ring_buffer__new(bpf_map__fd(skel_->maps.events), &BpfEventSource::OnRecord, this, nullptr));
  if (!rb_) return LibbpfErrnoStatus("create ring buffer consumer");
  if (sock_skel_) {
    RETURN_IF_ERROR(
        LibbpfStatus(ring_buffer__add(rb_.get(), bpf_map__fd(sock_skel_->maps.sock_events),
                                      &BpfEventSource::OnSocketRecord, this),
                     "add the socket ring buffer"));
  }
  return absl::OkStatus();
}

absl::Status BpfEventSource::LoadSockets() {
  errno = 0;
  sock_skel_.reset(sockets__open());
  if (!sock_skel_) return LibbpfErrnoStatus("open the socket tracker's BPF object");
  sock_skel_->rodata->capture_bytes = options_.socket_capture_bytes;
  sock_hooks_ = ChooseSocketHooks(/*syscall_programs=*/!options_.no_syscalls);
  SelectSocketHooks(sock_skel_->obj, sock_hooks_);
  VLOG(1) << "socket tracker on " << SocketHooksName(sock_hooks_);
  RETURN_IF_ERROR(
      LibbpfStatus(bpf_map__set_max_entries(sock_skel_->maps.sock_events, options_.ringbuf_bytes),
                   "size the socket ring buffer"));
  // One assembly slot per possible CPU (indexed by CPU number).
  RETURN_IF_ERROR(LibbpfStatus(bpf_map__set_max_entries(sock_skel_->maps.sock_scratch, ncpus_),
                               "size the socket scratch map"));
  // Trace exactly what the syscalls program traces: its map, not a copy.
  RETURN_IF_ERROR(
      LibbpfStatus(bpf_map__reuse_fd(sock_skel_->maps.targets, bpf_map__fd(skel_->maps.targets)),
                   "share the target map with the socket tracker"));
  RETURN_IF_ERROR(LibbpfStatus(sockets__load(sock_skel_.get()), "load the socket tracker"));
  if (sock_skel_->rodata->abi_version != sockets_abi::kAbiVersion) {
    return absl::FailedPreconditionError(
        absl::StrCat("socket BPF object speaks record ABI ", sock_skel_->rodata->abi_version,
                     ", this binary expects ", sockets_abi::kAbiVersion));
  }
  return absl::OkStatus();
}

absl::Status BpfEventSource::AddTarget(uint32_t tgid) {
  if (tgid == 0 || tgid >= SYSCALLS_TGID_LIMIT) {
    return absl::InvalidArgumentError(
        absl::StrCat("pid ", tgid, " outside 1..", SYSCALLS_TGID_LIMIT - 1));
  }
  // The hash first (the socket program reads it), then the bit the syscall
  // programs test: once the bit is set, both sets hold the process.
  const uint8_t one = 1;
  int err =
      bpf_map__update_elem(skel_->maps.targets, &tgid, sizeof tgid, &one, sizeof one, BPF_ANY);
  if (err != 0) {
    absl::Status st = LibbpfStatus(err, absl::StrCat("add pid ", tgid, " to the target map"));
    return absl::InternalError(st.message());
  }
  __atomic_fetch_or(&skel_->bss->traced_tgids[tgid / 64], uint64_t{1} << (tgid % 64),
                    __ATOMIC_SEQ_CST);
  return absl::OkStatus();
}

absl::Status BpfEventSource::AddCommTarget(const std::string& comm) {
  char key[16] = {};
  if (comm.empty() || comm.size() >= sizeof key || comm.find('\0') != comm.npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("comm '", comm, "' must be 1..15 bytes without NUL"));
  }
  comm.copy(key, comm.size());
  const uint8_t one = 1;
  int err =
      bpf_map__update_elem(skel_->maps.comm_targets, key, sizeof key, &one, sizeof one, BPF_ANY);
  if (err == -E2BIG) {
    return absl::ResourceExhaustedError(
        absl::StrCat("more than ", SYSCALLS_COMM_TARGETS_MAX, " comm targets"));
  }
  if (err != 0) {
    absl::Status st = LibbpfStatus(err, absl::StrCat("add comm '", comm, "' to the target map"));
    return absl::InternalError(st.message());
  }
  skel_->bss->comm_targets_on = 1;
  return absl::OkStatus();
}

absl::StatusOr<uint64_t> BpfEventSource::AddCgroupTarget(const std::string& cgroup_path) {
  if (cgroup_path.empty() || cgroup_path[0] != '/') {
    return absl::InvalidArgumentError(
        absl::StrCat("cgroup path '", cgroup_path, "' must be absolute (\"/a/b\")"));
  }
  RETURN_IF_ERROR(CheckAdmissionAtSysEnter("a cgroup target"));
  int level = 0;
  std::string rel;
  for (absl::string_view part : absl::StrSplit(cgroup_path, '/', absl::SkipEmpty())) {
    if (part == "." || part == "..") {
      return absl::InvalidArgumentError(
          absl::StrCat("cgroup path '", cgroup_path, "' must not contain '.' or '..'"));
    }
    absl::StrAppend(&rel, "/", part);
    ++level;
  }
  if (level > SYSCALLS_CGROUP_MAX_LEVEL) {
    return absl::InvalidArgumentError(absl::StrCat(
        "cgroup path '", cgroup_path, "' is deeper than ", SYSCALLS_CGROUP_MAX_LEVEL, " levels"));
  }
  auto is_cgroup2 = [](const std::string& path) {
    struct statfs fs;
    return statfs(path.c_str(), &fs) == 0 && fs.f_type == CGROUP2_SUPER_MAGIC;
  };
  std::string root = options_.cgroup_root;
  if (root.empty()) {
    root = is_cgroup2("/sys/fs/cgroup") ? "/sys/fs/cgroup" : "/sys/fs/cgroup/unified";
  }
  if (!is_cgroup2(root)) {
    return absl::FailedPreconditionError(absl::StrCat(root, " is not a cgroup v2 mount"));
  }
  // The kernel's cgroup id is the kernfs node id, which the cgroup file
  // system hands out as the directory's 8-byte file handle.
  const std::string dir = root + rel;
  struct {
    file_handle fh;
    uint64_t id;
  } handle = {};
  handle.fh.handle_bytes = sizeof handle.id;
  int mount_id = 0;
  if (name_to_handle_at(AT_FDCWD, dir.c_str(), &handle.fh, &mount_id, 0) != 0) {
    const int e = errno;
    if (e == ENOENT || e == ENOTDIR) {
      return absl::NotFoundError(absl::StrCat("cgroup ", cgroup_path, ": no ", dir));
    }
    return absl::InternalError(
        absl::StrCat("cgroup ", cgroup_path, ": name_to_handle_at(", dir, "): ", strerror(e)));
  }
  uint64_t id = 0;
  std::memcpy(&id, handle.fh.f_handle, sizeof id);
  const uint8_t one = 1;
  int err =
      bpf_map__update_elem(skel_->maps.cgroup_targets, &id, sizeof id, &one, sizeof one, BPF_ANY);
  if (err == -E2BIG) {
    return absl::ResourceExhaustedError(
        absl::StrCat("more than ", SYSCALLS_CGROUP_TARGETS_MAX, " cgroup targets"));
  }
  if (err != 0) {
    absl::Status st =
        LibbpfStatus(err, absl::StrCat("add cgroup ", cgroup_path, " to the target map"));
    return absl::InternalError(st.message());
  }
  // After the map entry, so the kernel never looks at a level in vain.
  __atomic_fetch_or(&skel_->bss->cgroup_target_levels, uint64_t{1} << level, __ATOMIC_SEQ_CST);
  return id;
}

absl::Status BpfEventSource::SetTraceAll(bool enabled) {
  if (enabled) {
    RETURN_IF_ERROR(CheckAdmissionAtSysEnter("trace-all"));
  }
  __atomic_store_n(&skel_->bss->trace_all, enabled ? 1u : 0u, __ATOMIC_SEQ_CST);
  return absl::OkStatus();
}

absl::Status BpfEventSource::CheckAdmissionAtSysEnter(absl::string_view what) const {
  if (!options_.no_syscalls) return absl::OkStatus();
  return absl::FailedPreconditionError(
      absl::StrCat(what,
                   " admits processes at a selected syscall; with no syscall selected "
                   "(trace=none) nothing would be admitted"));
}

std::optional<KernelAdmission> BpfEventSource::TakeAdmission(uint32_t tgid) {
  syscalls_admission a;
  if (bpf_map__lookup_and_delete_elem(skel_->maps.admissions, &tgid, sizeof tgid, &a, sizeof a,
                                      0) != 0) {
    return std::nullopt;
  }
  KernelAdmission out;
  switch (a.reason) {
    case SYSCALLS_ADMIT_TRACE_ALL:
      out.reason = KernelAdmission::Reason::kTraceAll;
      break;
    case SYSCALLS_ADMIT_CGROUP:
      out.reason = KernelAdmission::Reason::kCgroup;
      out.cgroup_id = a.cgroup_id;
      break;
    case SYSCALLS_ADMIT_COMM:
      out.reason = KernelAdmission::Reason::kComm;
      break;
    default:
      return std::nullopt;  // not written by this program's ABI
  }
  out.comm.assign(a.comm, strnlen(a.comm, sizeof a.comm));
  return out;
}

int BpfEventSource::OnRecord(void* ctx, void* data, size_t size) {
  auto* self = static_cast<BpfEventSource*>(ctx);
  if (self->raw_sink_ != nullptr) {
    self->raw_sink_->OnRawRecord(data, size);
    ++self->delivered_;
    return 0;
  }
  switch (DecodeSyscallRecord(data, size, &self->syscall_, &self->process_)) {
    case DecodeResult::kSyscall:
      self->sink_->OnSyscall(self->syscall_);
      ++self->delivered_;
      break;
    case DecodeResult::kProcess:
      self->sink_->OnProcess(self->process_);
      ++self->delivered_;
      break;
    case DecodeResult::kInvalid:
      ++self->invalid_;
      break;
  }
  return 0;
}

int BpfEventSource::OnSocketRecord(void* ctx, void* data, size_t size) {
  auto* self = static_cast<BpfEventSource*>(ctx);
  if (self->raw_sink_ != nullptr) {
    self->raw_sink_->OnRawRecord(data, size);
    ++self->delivered_;
    return 0;
  }
  SocketCounters& c = self->socket_counts_;
  switch (DecodeSocketRecord(data, size, &self->socket_)) {
    case SocketDecodeResult::kOpen:
      self->sink_->OnSocketOpen(self->socket_.open);
      ++c.opens;
      ++self->delivered_;
      break;
    case SocketDecodeResult::kData: {
      const SocketDataEvent& d = self->socket_.data;
      self->sink_->OnSocketData(d);
      ++c.data_events;
      c.bytes_copied += d.data.size();
      c.bytes_not_copied += d.length - d.data.size();
      ++self->delivered_;
      break;
    }
    case SocketDecodeResult::kClose:
      self->sink_->OnSocketClose(self->socket_.close);
      ++c.closes;
      ++self->delivered_;
      break;
    case SocketDecodeResult::kInvalid:
      ++self->invalid_;
      break;
  }
  return 0;
}

absl::StatusOr<int> BpfEventSource::Poll(EventSink& sink, int timeout_ms) {
  sink_ = &sink;
  auto n = PollWith(timeout_ms);
  sink_ = nullptr;
  return n;
}

absl::StatusOr<int> BpfEventSource::PollRaw(RawRecordSink& sink, int timeout_ms) {
  raw_sink_ = &sink;
  auto n = PollWith(timeout_ms);
  raw_sink_ = nullptr;
  return n;
}

absl::StatusOr<int> BpfEventSource::PollWith(int timeout_ms) {
  const uint64_t before = delivered_;
  const uint64_t deadline = NowMs() + (timeout_ms > 0 ? timeout_ms : 0);
  absl::Status status;
  while (true) {
    int n = ring_buffer__consume(rb_.get());
    if (n < 0 && n != -EINTR) {
      status = LibbpfStatus(n, "read the ring buffer");
      break;
    }
    if (n > 0) {
      slice_ms_ = kPollSliceMs;
      break;
    }
    const uint64_t now = NowMs();
    if (now >= deadline) break;
    // Process records do wake us; syscall records are found by the next
    // consume after this slice.
    const int slice = static_cast<int>(std::min<uint64_t>(deadline - now, slice_ms_));
    n = ring_buffer__poll(rb_.get(), slice);
    if (n < 0 && n != -EINTR) {
      status = LibbpfStatus(n, "wait on the ring buffer");
      break;
    }
    if (n > 0) {
      slice_ms_ = kPollSliceMs;
      break;
    }
    if (n == 0 && slice == slice_ms_) slice_ms_ = std::min(slice_ms_ * 2, max_slice_ms_);
  }
  if (!status.ok()) return absl::InternalError(status.message());
  return static_cast<int>(delivered_ - before);
}

std::vector<uint64_t> BpfEventSource::DropsPerCpu(const bpf_map* map, uint32_t reason) const {
  std::vector<uint64_t> values(ncpus_, 0);
  if (bpf_map__lookup_elem(map, &reason, sizeof reason, values.data(),
                           values.size() * sizeof(uint64_t), 0) != 0) {
    // Reading an existing per-CPU array slot cannot fail short of a
    // kernel bug; report zeros rather than invent numbers.
    LOG(WARNING) << "reading BPF drop counters failed: errno " << errno;
    std::fill(values.begin(), values.end(), 0);
  }
  return values;
}

CaptureCounters BpfEventSource::Counters() const {
  auto sum = [](const std::vector<uint64_t>& v) {
    uint64_t s = 0;
    for (uint64_t x : v) s += x;
    return s;
  };
  CaptureCounters c;
  const bpf_map* drops = skel_->maps.drops;
  c.ringbuf_drops_per_cpu = DropsPerCpu(drops, SYSCALLS_DROP_RINGBUF);
  c.events = delivered_;
  c.missed_syscalls = sum(DropsPerCpu(drops, SYSCALLS_DROP_PENDING_FULL));
  c.exec_args_lost = sum(DropsPerCpu(drops, SYSCALLS_DROP_EXEC_STASH));
  c.forks_not_followed = sum(DropsPerCpu(drops, SYSCALLS_DROP_TARGETS_FULL));
  c.invalid_records = invalid_;
  if (sock_skel_) {
    const bpf_map* sdrops = sock_skel_->maps.sock_drops;
    c.sockets = socket_counts_;
    c.sockets.ringbuf_drops = sum(DropsPerCpu(sdrops, SOCKETS_DROP_RINGBUF));
    c.sockets.untracked_full = sum(DropsPerCpu(sdrops, SOCKETS_DROP_TABLE_FULL));
    c.sockets.missed_calls = sum(DropsPerCpu(sdrops, SOCKETS_DROP_PENDING_FULL));
  }
  return c;
}

absl::StatusOr<std::vector<SyscallTotals>> BpfEventSource::Totals() const {
  std::vector<SyscallTotals> out;
  if (!options_.stats_only) return out;
  std::vector<bpf_abi::Totals> per_cpu(ncpus_);
  for (uint32_t nr = 0; nr < static_cast<uint32_t>(bpf_abi::kMaxNr); ++nr) {
    int err = bpf_map__lookup_elem(skel_->maps.totals, &nr, sizeof nr, per_cpu.data(),
                                   per_cpu.size() * sizeof(bpf_abi::Totals), 0);
    if (err != 0) {
      absl::Status st = LibbpfStatus(err, "read syscall totals");
      return absl::InternalError(st.message());
    }
    SyscallTotals t;
    t.nr = static_cast<int32_t>(nr);
    for (const auto& v : per_cpu) {
      t.calls += v.calls;
      t.errors += v.errors;
      t.total_ns += v.total_ns;
    }
    if (t.calls > 0) out.push_back(t);
  }
  return out;
}

}  // namespace

absl::StatusOr<std::unique_ptr<EventSource>> OpenBpfEventSource(const CaptureOptions& options) {
  auto source = BpfEventSource::Create(options);
  if (!source.ok()) return source.status();
  return std::unique_ptr<EventSource>(std::move(*source));
}

}  // namespace tracer::capture
