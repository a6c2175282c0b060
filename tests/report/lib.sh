# Shared by the scripts that open a report in a real browser (tests/integration/report_*.sh;
# sourced, not a test): Debian's headless Chromium driven by web/test/check_page.mjs over
# playwright-core.
# need_page_check: skips (77) without chromium; fails without node or web/node_modules, which
# scripts/setup installs. Sets CHECK_PAGE (the checker) and RENDER (the C++ renderer's test
# driver, build/leakscope_render_report, which must be built).
need_page_check() {
  local src=${LEAKSCOPE_SOURCE:?} build=${LEAKSCOPE_BUILD:?}
  command -v chromium >/dev/null || { echo "skip: chromium is not installed"; exit 77; }
  command -v node >/dev/null || { echo "node is missing: run scripts/setup" >&2; exit 1; }
  [[ -d $src/web/node_modules/playwright-core ]] || {
    echo "web/node_modules is missing: run scripts/setup (npm ci in web/)" >&2
    exit 1
  }
  CHECK_PAGE=$src/web/test/check_page.mjs
  RENDER=$build/leakscope_render_report
  [[ -x $RENDER ]] || { echo "$RENDER is not built" >&2; exit 1; }
}
