#include "tests/integration/cli.h"

#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

namespace seg::testing {

std::string quote(const std::string& s) { return "'" + s + "'"; }

// SEGC_UNDER_TEST runs the tests against another segc (an older build, to
// see a regression test fail before its fix).
std::string segcPath() {
  const char* other = std::getenv("SEGC_UNDER_TEST");
  return other != nullptr && *other != '\0' ? other : SEGC_PATH;
}

CliRun segc(const std::string& args) { return segcWithEnv("", args); }

CliRun segcWithEnv(const std::string& env, const std::string& args) {
  // A segc that hangs (a regression) fails its test instead of stopping the suite.
  return shell((env.empty() ? "" : "env " + env + " ") + "timeout --kill-after=5 300 " + quote(segcPath()) + " " + args);
}

CliRun shell(const std::string& line) {
  const std::string command = line + " 2>&1";
  CliRun run;
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return run;
  char buffer[4096];
  std::size_t n;
  while ((n = fread(buffer, 1, sizeof buffer, pipe)) > 0) run.out.append(buffer, n);
  const int status = pclose(pipe);
  run.exit = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return run;
}

std::string readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace seg::testing
