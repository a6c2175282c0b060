// Escaping for the two places report data enters the page's HTML.
//
// The report JSON goes inside <script type="application/json">, whose content ends at the first
// "</script" and whose parser also reacts to "<!--": so every '<' (and '>' and '&', for good
// measure) becomes its JSON escape \u003c, which JSON.parse reads back as the same character.
// These three characters can only appear inside JSON strings, so the document stays valid JSON
// with the same value; in an invalid document they still cannot end the element. U+2028 and
// U+2029 are escaped too, for readers that eval JSON as JavaScript.
//
// Text that the server writes into the markup itself (the <title>, the <noscript> summary) is
// escaped as HTML text.
#pragma once

#include <string>
#include <string_view>

namespace leakscope::html {

std::string escape_json_for_script(std::string_view json);

std::string escape_html_text(std::string_view text);

}  // namespace leakscope::html
