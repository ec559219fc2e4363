#pragma once

namespace cacheproxy {
inline constexpr const char* kVersion = "0.1.0";
}
