// Running external programs from tests (Prometheus' parser, Node.js, systemd-analyze, the
// install script): the command's exit code and its output, stdout and stderr together.
#pragma once

#include <string>

namespace cacheproxy::testing {

struct CommandResult {
  int exit_code = -1;  // -1 if it did not exit normally
  std::string output;
};

// Runs `command` through /bin/sh, with stdin from `stdin_file` if it is not empty.
CommandResult run_command(const std::string& command, const std::string& stdin_file = {});

// True if `program` is found on PATH (or is an executable path).
bool have_program(const std::string& program);

// `text` as one word of a shell command line: single-quoted, inner quotes escaped.
std::string shell_quote(const std::string& text);

}  // namespace cacheproxy::testing
