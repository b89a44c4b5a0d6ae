// Crash consistency with real processes: wal_crash_child appends from two
// threads as fast as it can and is killed with SIGKILL at random points; after
// each kill the WAL is reopened here and must hold every record whose Append
// had returned (as reported over a pipe before the kill), intact, with
// sequence numbers strictly increasing across rounds and cursors that never
// moved backwards.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <iostream>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "storage/rocksdb_wal.h"
#include "storage/testing/crash_protocol.h"
#include "storage/testing/otlp_batch.h"
#include "storage/testing/temp_dir.h"

extern char** environ;

namespace tracer::storage {
namespace {

std::string ChildPath() {
  const char* srcdir = std::getenv("TEST_SRCDIR");
  const char* workspace = std::getenv("TEST_WORKSPACE");
  if (srcdir != nullptr && workspace != nullptr) {
    return std::string(srcdir) + "/" + workspace + "/storage/wal_crash_child";
  }
  return "storage/wal_crash_child";
}

struct ChildOutput {
  std::map<uint64_t, uint64_t> appended;  // seq -> batch id
  std::vector<uint64_t> acks;             // in report order
  bool ready = false;
  int wait_status = 0;
};

// Runs the child; kills it with SIGKILL `kill_after` after start (if set),
// collecting its report lines until then and to EOF afterwards.
ChildOutput RunChild(const std::vector<std::string>& args,
                     std::optional<absl::Duration> kill_after) {
  ChildOutput out;
  int fds[2];
  EXPECT_EQ(pipe2(fds, O_CLOEXEC), 0);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
  std::vector<char*> argv;
  const std::string path = ChildPath();
  argv.push_back(const_cast<char*>(path.c_str()));
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, path.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(fds[1]);
  EXPECT_EQ(rc, 0) << "spawn " << path;
  if (rc != 0) {
    close(fds[0]);
    return out;
  }

  std::string buffer;
  bool killed = false;
  const absl::Time kill_at = absl::Now() + kill_after.value_or(absl::InfiniteDuration());
  for (;;) {
    if (!killed && kill_after.has_value() && absl::Now() >= kill_at) {
      kill(pid, SIGKILL);
      killed = true;
    }
    pollfd p{fds[0], POLLIN, 0};
    const int timeout_ms = killed || !kill_after.has_value()
                               ? -1
                               : std::max<int>(0, absl::ToInt64Milliseconds(kill_at - absl::Now()));
    if (poll(&p, 1, timeout_ms) < 0) continue;
    if (p.revents == 0) continue;
    char chunk[65536];
    const ssize_t n = read(fds[0], chunk, sizeof(chunk));
    if (n <= 0) break;  // EOF: the child is gone
    buffer.append(chunk, static_cast<size_t>(n));
  }
  close(fds[0]);
  waitpid(pid, &out.wait_status, 0);

  // Only complete lines count; a kill cannot tear a line (single writes).
  std::istringstream lines(buffer.substr(0, buffer.rfind('\n') + 1));
  std::string kind;
  while (lines >> kind) {
    if (kind == "ready") {
      out.ready = true;
    } else if (kind == "A") {
      uint64_t seq = 0, id = 0;
      lines >> seq >> id;
      EXPECT_TRUE(out.appended.emplace(seq, id).second) << "seq reused " << seq;
    } else if (kind == "K") {
      uint64_t seq = 0;
      lines >> seq;
      out.acks.push_back(seq);
    } else {
      ADD_FAILURE() << "unexpected child output: " << kind;
    }
  }
  return out;
}

uint64_t CursorOf(const WalStats& stats, const std::string& name) {
  for (const auto& c : stats.consumers) {
    if (c.name == name) return c.cursor;
  }
  ADD_FAILURE() << "no consumer " << name;
  return 0;
}

// Every stored record, read through consumer "slow" (which never acks).
std::vector<WalRecord> ReadAll(Wal& wal) {
  std::vector<WalRecord> all;
  uint64_t after = 0;
  for (;;) {
    auto batch = wal.ReadFrom("slow", ReadLimits{.max_records = 1024, .after_seq = after});
    EXPECT_TRUE(batch.ok()) << batch.status();
    if (!batch.ok() || batch->empty()) break;
    after = batch->back().seq;
    for (auto& r : *batch) all.push_back(std::move(r));
  }
  return all;
}

TEST(WalCrashTest, SigkillAtRandomPointsLosesNothingThatWasAcknowledged) {
  testing::TempDir dir;
  ASSERT_FALSE(dir.path().empty());
  std::mt19937 rng(std::random_device{}());
  constexpr int kRounds = 30;
  uint64_t max_seq_before = 0;                // newest seq present before the round
  uint64_t fast_cursor = 0;                   // cursor of "fast" after the last round
  std::map<uint64_t, uint64_t> all_reported;  // every acknowledged append
  size_t killed_rounds = 0;

  for (int round = 0; round < kRounds; ++round) {
    // Mostly mid-stream kills; every fifth round kills during open/recovery.
    const absl::Duration kill_after =
        round % 5 == 4 ? absl::Microseconds(std::uniform_int_distribution<int>(0, 20000)(rng))
                       : absl::Milliseconds(std::uniform_int_distribution<int>(60, 400)(rng));
    ChildOutput out =
        RunChild({"--data_dir=" + dir.path(), "--threads=2", "--round=" + std::to_string(round)},
                 kill_after);
    ASSERT_TRUE(WIFSIGNALED(out.wait_status) && WTERMSIG(out.wait_status) == SIGKILL)
        << "round " << round << ": child was not killed (status " << out.wait_status << ")";
    ++killed_rounds;
    SCOPED_TRACE(::testing::Message() << "round " << round << ", killed after " << kill_after
                                      << ", " << out.appended.size() << " appends reported");

    // Sequence numbers strictly increase across crashes.
    if (!out.appended.empty()) {
      EXPECT_GT(out.appended.begin()->first, max_seq_before);
    }
    for (const auto& [seq, id] : out.appended) {
      ASSERT_TRUE(all_reported.emplace(seq, id).second) << "seq reused " << seq;
    }

    WalOptions options;
    options.data_dir = dir.path();
    auto wal = RocksDbWal::Open(options);
    ASSERT_TRUE(wal.ok()) << wal.status();
    const WalStats stats = (*wal)->Stats();
    uint64_t quarantined = 0;
    for (uint64_t n : stats.quarantined_by_reason) quarantined += n;
    EXPECT_EQ(quarantined, 0u) << "a torn record was stored";
    EXPECT_EQ(stats.quarantined_stored, 0u);
    if (!out.ready) {
      EXPECT_TRUE(out.appended.empty());
      if (stats.consumers.empty()) continue;  // killed before registering
    }

    // Every reported append is present and intact; every stored record,
    // reported or not, is a whole, valid batch; seqs strictly increase.
    const std::vector<WalRecord> records = ReadAll(**wal);
    std::map<uint64_t, const WalRecord*> by_seq;
    uint64_t prev = 0;
    for (const WalRecord& r : records) {
      EXPECT_GT(r.seq, prev);
      prev = r.seq;
      by_seq[r.seq] = &r;
      EXPECT_EQ(testing::CountOtlpSpans(r.payload), r.span_count) << "seq " << r.seq;
    }
    for (const auto& [seq, id] : all_reported) {
      auto it = by_seq.find(seq);
      ASSERT_NE(it, by_seq.end()) << "acknowledged seq " << seq << " lost";
      const uint32_t spans = testing::CrashBatchSpans(id);
      EXPECT_EQ(it->second->span_count, spans);
      EXPECT_EQ(it->second->payload, testing::MakeOtlpBatch(id, spans)) << "seq " << seq;
    }
    EXPECT_EQ(records.size(), stats.records);
    if (!records.empty()) {
      EXPECT_EQ(records.back().seq, stats.newest_seq);
      max_seq_before = std::max(max_seq_before, records.back().seq);
    }
    EXPECT_GE(stats.next_seq, max_seq_before + 1);

    // Cursors never move backwards and keep every acknowledged Ack.
    const uint64_t cursor = CursorOf(stats, "fast");
    EXPECT_GE(cursor, fast_cursor);
    for (uint64_t ack : out.acks) EXPECT_GE(cursor, ack);
    EXPECT_EQ(CursorOf(stats, "slow"), 0u);
    fast_cursor = cursor;
  }
  EXPECT_EQ(killed_rounds, size_t{kRounds});
  EXPECT_GT(all_reported.size(), 100u) << "the child barely appended";
  std::cout << kRounds << " SIGKILL rounds, " << all_reported.size()
            << " acknowledged appends verified, newest seq " << max_seq_before << "\n";
}

TEST(WalCrashTest, ReopenAfterExitWithoutClose) {
  testing::TempDir dir;
  ASSERT_FALSE(dir.path().empty());
  ChildOutput out =
      RunChild({"--data_dir=" + dir.path(), "--threads=1", "--exit_after=50"}, std::nullopt);
  ASSERT_TRUE(WIFEXITED(out.wait_status) && WEXITSTATUS(out.wait_status) == 0) << out.wait_status;
  ASSERT_EQ(out.appended.size(), 50u);
  WalOptions options;
  options.data_dir = dir.path();
  auto wal = RocksDbWal::Open(options);
  ASSERT_TRUE(wal.ok()) << wal.status();
  const std::vector<WalRecord> records = ReadAll(**wal);
  ASSERT_EQ(records.size(), 50u);
  for (const WalRecord& r : records) {
    const uint64_t id = out.appended.at(r.seq);
    EXPECT_EQ(r.payload, testing::MakeOtlpBatch(id, testing::CrashBatchSpans(id)));
  }
  ASSERT_FALSE(out.acks.empty());
  EXPECT_GE(CursorOf((*wal)->Stats(), "fast"), out.acks.back());
}

}  // namespace
}  // namespace tracer::storage
