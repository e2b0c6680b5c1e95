// Running segc from tests: its output (stdout and stderr) and exit code.
#pragma once

#include <string>

namespace seg::testing {

struct CliRun {
  std::string out;
  int exit = -1;
};

// Single-quotes a path or argument for the shell.
std::string quote(const std::string& s);
// The segc the tests run: SEGC_UNDER_TEST, or the one just built.
std::string segcPath();
// Runs `segc ARGS` (ARGS already quoted as needed).
CliRun segc(const std::string& args);
// The same with environment variables set (`NAME=value ...`).
CliRun segcWithEnv(const std::string& env, const std::string& args);
// Any shell command, its output and exit code.
CliRun shell(const std::string& command);
std::string readFile(const std::string& path);

}  // namespace seg::testing
