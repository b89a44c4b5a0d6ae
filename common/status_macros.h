// Early-return helpers for absl::Status and absl::StatusOr<T>, in the shape
// of the macros Abseil uses internally and TensorFlow, Envoy and gRPC export
// (absl ships none publicly).
//
//   RETURN_IF_ERROR(expr);            // expr: an absl::Status
//   ASSIGN_OR_RETURN(auto v, expr);   // expr: an absl::StatusOr<T>; v = *std::move(expr)
//
// Both return the error unchanged (code, message and payloads) from the
// enclosing function, which must return absl::Status or absl::StatusOr<U>.
// `expr` is evaluated exactly once. Thread-safety: as the expression's.
#ifndef TRACER_COMMON_STATUS_MACROS_H_
#define TRACER_COMMON_STATUS_MACROS_H_

#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define TRACER_STATUS_MACROS_CONCAT_INNER_(a, b) a##b
#define TRACER_STATUS_MACROS_CONCAT_(a, b) TRACER_STATUS_MACROS_CONCAT_INNER_(a, b)

// Returns the status of `expr` from the enclosing function unless it is OK.
#define RETURN_IF_ERROR(expr)                                           \
  do {                                                                  \
    if (::absl::Status tracer_status_ = (expr); !tracer_status_.ok()) { \
      return tracer_status_;                                            \
    }                                                                   \
  } while (false)

// Evaluates `rexpr` (an absl::StatusOr<T>); on error returns its status from
// the enclosing function, else moves its value into `lhs` (a declaration such
// as `auto x` or an existing lvalue).
#define ASSIGN_OR_RETURN(lhs, rexpr)                                                           \
  TRACER_ASSIGN_OR_RETURN_IMPL_(TRACER_STATUS_MACROS_CONCAT_(tracer_statusor_, __LINE__), lhs, \
                                rexpr)

#define TRACER_ASSIGN_OR_RETURN_IMPL_(statusor, lhs, rexpr) \
  auto statusor = (rexpr);                                  \
  if (!statusor.ok()) return std::move(statusor).status();  \
  lhs = *std::move(statusor)

#endif  // TRACER_COMMON_STATUS_MACROS_H_
