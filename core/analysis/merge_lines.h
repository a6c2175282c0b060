// One function, one finding. An allocating function often allocates on several lines (an object
// and the string inside it; a node and its buffer), and each line is a site of its own: judged
// apart, the main allocation is a LEAK card and its companions, whose series are smaller and
// noisier, green NO-LEAK cards ("filled, then stayed flat") beside it while their own charts
// rise. A reader cannot trust either. merge_lines() makes the lines of one function, reached from
// one caller, a single finding: the most severe verdict among them (and that line as the site),
// growth and rate summed, the series summed for the chart, and the evidence listing every line
// with its growth. Sites of one helper reached from different callers stay apart (sites.h: a
// make_record() shared by a leak and a cache is two sites), and unsymbolized sites are left alone.
#pragma once

#include <vector>

#include "core/analysis/finding.h"

namespace leakscope::analysis {

void merge_lines(std::vector<Finding>& findings);

}  // namespace leakscope::analysis
