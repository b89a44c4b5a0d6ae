// Fuzz target: ParseTraceExpression on arbitrary text (it parses user input
// from the command line and from session policies).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "syscalls/syscall_classes.h"
#include "syscalls/syscall_table.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view expr(reinterpret_cast<const char*>(data), size);
  auto nrs = tracer::syscalls::ParseTraceExpression(expr);
  if (nrs.ok()) {
    // Results are always known syscalls, ascending and unique.
    int prev = -1;
    for (int nr : *nrs) {
      if (nr <= prev) __builtin_trap();
      if (tracer::syscalls::SyscallNumber(tracer::syscalls::SyscallName(nr)) != nr)
        __builtin_trap();
      prev = nr;
    }
  }
  return 0;
}
