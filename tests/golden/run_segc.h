// Runs the segc binary under test and captures what it prints.
#pragma once

#include <sys/resource.h>
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <string>

namespace seg::test {

struct RunResult {
  std::string output;  // stdout and stderr, interleaved as printed
  int exitCode = -1;   // 128 + signal when killed by a signal
};

inline std::string shellQuote(const std::string& text) {
  std::string out = "'";
  for (char c : text) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

inline RunResult runSegc(const std::string& args, const std::filesystem::path& directory) {
  const std::string command =
      "cd " + shellQuote(directory.string()) + " && " + shellQuote(SEGC_PATH) + " " + args + " 2>&1";
  RunResult result;
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return result;
  char buffer[4096];
  std::size_t n;
  while ((n = fread(buffer, 1, sizeof buffer, pipe)) > 0) result.output.append(buffer, n);
  const int status = pclose(pipe);
  if (WIFEXITED(status)) {
    result.exitCode = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    result.exitCode = 128 + WTERMSIG(status);
  }
  return result;
}

// Peak resident memory of any child waited for so far, in bytes.
inline long long peakChildMemoryBytes() {
  rusage usage{};
  getrusage(RUSAGE_CHILDREN, &usage);
  return static_cast<long long>(usage.ru_maxrss) * 1024;
}

}  // namespace seg::test
