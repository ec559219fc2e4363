// The live statistics page served at / to admin_access clients: one self-contained HTML
// document (no external script, style sheet or font: the gateway may have no Internet access
// of its own) that polls /stats every few seconds and draws its charts on <canvas> by hand.
//
// For tests and scripts, every figure it shows is also in its element's data-value attribute
// (raw numbers, ids as in the page), and <body> gets data-drawn="1" once both charts have drawn
// pixels of their data series.
#pragma once

#include <string_view>

namespace cacheproxy {

extern const std::string_view kLivePage;

}  // namespace cacheproxy
