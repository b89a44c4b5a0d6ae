// The words of a subcommand as getopt_long(3) wants them: a writable,
// null-terminated argv whose argv[0] names the subcommand, owning its
// strings. Creating one resets getopt's state (optind = 0, a full
// re-initialisation in glibc) and turns off its own messages (opterr = 0):
// the parsers report errors themselves. Not thread-safe (getopt's state is
// global); parse one command line at a time.
#ifndef TRACER_CTL_GETOPT_ARGS_H_
#define TRACER_CTL_GETOPT_ARGS_H_

#include <getopt.h>

#include <string>
#include <utility>
#include <vector>

namespace tracer::ctl {

class GetoptArgs {
 public:
  // argv = {program, args...}.
  GetoptArgs(std::string program, std::vector<std::string>::const_iterator begin,
             std::vector<std::string>::const_iterator end)
      : words_{std::move(program)} {
    words_.insert(words_.end(), begin, end);
    for (std::string& w : words_) argv_.push_back(w.data());
    argv_.push_back(nullptr);
    optind = 0;
    opterr = 0;
  }
  GetoptArgs(const GetoptArgs&) = delete;
  GetoptArgs& operator=(const GetoptArgs&) = delete;

  int argc() const { return static_cast<int>(words_.size()); }
  char** argv() { return argv_.data(); }

 private:
  std::vector<std::string> words_;
  std::vector<char*> argv_;  // into words_, then nullptr
};

}  // namespace tracer::ctl

#endif  // TRACER_CTL_GETOPT_ARGS_H_
