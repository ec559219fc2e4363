// Diagnostic lines on stderr (systemd's journal takes them from there), with a UTC time stamp.
#pragma once

#include <string_view>

namespace cacheproxy {

void log_line(std::string_view message);

// As log_line, but at most one line per second for each `topic`, with a count of those left
// out, so a hostile client cannot flood the log.
void log_line_limited(std::string_view topic, std::string_view message);

}  // namespace cacheproxy
