// Escaping of report data for the page: the embedded JSON keeps its value (checked by decoding
// it back with nlohmann::json) and can never close its <script> element.
#include "core/html/html_escape.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace leakscope::html {
namespace {

TEST(EscapeJsonForScript, NoAngleBracketOrAmpersandSurvives) {
  const std::string json = R"({"f":"</script><!-- a && b > c","g":"operator<<"})";
  const std::string out = escape_json_for_script(json);
  EXPECT_EQ(out.find('<'), std::string::npos);
  EXPECT_EQ(out.find('>'), std::string::npos);
  EXPECT_EQ(out.find('&'), std::string::npos);
  EXPECT_NE(out.find("\\u003c/script\\u003e"), std::string::npos);
}

TEST(EscapeJsonForScript, DecodesToTheSameValue) {
  const nlohmann::json doc = {{"function", "std::map<int, std::vector<char>>::operator[]"},
                              {"evidence", "a </script> b <!-- c --> d & e"},
                              {"sep", "line\xE2\x80\xA8para\xE2\x80\xA9"},
                              {"n", {1, 2.5, nullptr}}};
  const std::string out = escape_json_for_script(doc.dump());
  EXPECT_EQ(nlohmann::json::parse(out), doc);
  EXPECT_EQ(out.find("\xE2\x80\xA8"), std::string::npos);
  EXPECT_NE(out.find("\\u2028"), std::string::npos);
  EXPECT_NE(out.find("\\u2029"), std::string::npos);
}

TEST(EscapeJsonForScript, LeavesOtherTextAlone) {
  const std::string json = R"({"a":"caf\u00e9 ü / \\ \"q\"","b":[1,2]})";
  EXPECT_EQ(escape_json_for_script(json), json);
}

TEST(EscapeJsonForScript, InvalidJsonStillCannotCloseTheElement) {
  EXPECT_EQ(escape_json_for_script("</script><script>alert(1)"),
            "\\u003c/script\\u003e\\u003cscript\\u003ealert(1)");
}

TEST(EscapeHtmlText, EscapesMarkup) {
  EXPECT_EQ(escape_html_text(R"(<b>"x" & 'y'</b>)"),
            "&lt;b&gt;&quot;x&quot; &amp; &#39;y&#39;&lt;/b&gt;");
  EXPECT_EQ(escape_html_text("plain"), "plain");
}

}  // namespace
}  // namespace leakscope::html
