// A fresh directory under $TEST_TMPDIR (or /tmp) for one test, removed with
// its contents on destruction.
#ifndef TRACER_STORAGE_TESTING_TEMP_DIR_H_
#define TRACER_STORAGE_TESTING_TEMP_DIR_H_

#include <cstdlib>
#include <filesystem>
#include <string>
#include <system_error>

namespace tracer::storage::testing {

class TempDir {
 public:
  TempDir() {
    const char* base = std::getenv("TEST_TMPDIR");
    std::string tmpl = std::string(base != nullptr ? base : "/tmp") + "/wal.XXXXXX";
    if (mkdtemp(tmpl.data()) != nullptr) path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  // Empty if the directory could not be created.
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace tracer::storage::testing

#endif  // TRACER_STORAGE_TESTING_TEMP_DIR_H_
