#include "support/command.hpp"

#include <sys/wait.h>

#include <cstdio>

namespace cacheproxy::testing {

std::string shell_quote(const std::string& text) {
  std::string quoted = "'";
  for (char c : text) {
    if (c == '\'') {
      quoted += "'\\''";
    } else {
      quoted += c;
    }
  }
  return quoted + "'";
}

CommandResult run_command(const std::string& command, const std::string& stdin_file) {
  CommandResult r;
  std::string line = command;
  if (!stdin_file.empty()) line += " < " + shell_quote(stdin_file);
  line += " 2>&1";
  std::FILE* pipe = ::popen(line.c_str(), "r");
  if (pipe == nullptr) return r;
  char buffer[4096];
  while (std::size_t n = std::fread(buffer, 1, sizeof buffer, pipe)) r.output.append(buffer, n);
  int status = ::pclose(pipe);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

bool have_program(const std::string& program) {
  return run_command("command -v " + shell_quote(program)).exit_code == 0;
}

}  // namespace cacheproxy::testing
