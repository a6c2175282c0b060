// The report page's script and stylesheet, bundled from web/ by esbuild at build time and
// embedded by embed_assets.cmake (the generated report_assets.cc in the build tree).
#pragma once

#include <string_view>

namespace leakscope::html_assets {

extern const std::string_view kScript;  // minified JavaScript, no "</script" inside
extern const std::string_view kStyle;   // minified CSS, no "</style" inside

}  // namespace leakscope::html_assets
