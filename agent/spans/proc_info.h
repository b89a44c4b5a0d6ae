// Best-effort facts about a live process from /proc (proc(5)). Every reader
// returns nullopt when the process is gone, the file is unreadable, or it
// does not parse; callers fall back to what events told them.
#ifndef TRACER_AGENT_SPANS_PROC_INFO_H_
#define TRACER_AGENT_SPANS_PROC_INFO_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tracer::spans {

// The whole file /proc/<pid>/<file> under `proc_root` (where proc(5) is
// mounted; tests may point elsewhere), at most `max_bytes` of it.
std::optional<std::string> ReadProcFile(const std::string& proc_root, uint32_t pid,
                                        const char* file, size_t max_bytes = 64 << 10);

// /proc/<pid>/comm (the kernel's task name, at most 15 bytes) without its
// trailing newline.
std::optional<std::string> ReadComm(uint32_t pid, const std::string& proc_root = "/proc");

// readlink(/proc/<pid>/exe): the absolute path of the process's executable.
std::optional<std::string> ReadExePath(uint32_t pid);

// /proc/<pid>/cmdline as one string (JoinArgv). nullopt for kernel threads
// and zombies, whose cmdline is empty.
std::optional<std::string> ReadCommandLine(uint32_t pid);

// Field 4 (ppid) of /proc/<pid>/stat.
std::optional<uint32_t> ReadParentPid(uint32_t pid);

// Joins a NUL-separated argument list (execve argv as captured, or a
// /proc/<pid>/cmdline) with single spaces, without quoting; a trailing NUL is
// ignored. `truncated` (the capture cut the list short) appends "...".
std::string JoinArgv(std::string_view nul_separated, bool truncated = false);

// The last path component of `path` ("/usr/bin/ls" -> "ls").
std::string_view Basename(std::string_view path);

}  // namespace tracer::spans

#endif  // TRACER_AGENT_SPANS_PROC_INFO_H_
