// The console's graphs: the dashboard's metrics, read through GetMetricData as any client reads them.
#pragma once

#include <cstdint>

#include <nlohmann/json.hpp>

#include "engine/metrics/cloudwatch_api.h"

namespace slipway::engine {

/// Series one graph shows at most, and graphs at most.
inline constexpr size_t kMaxConsoleSeries = 8;

/// The graphs over the `minutes` before `now_ms` (epoch milliseconds), at 10-second resolution:
/// {period, start, end, charts: [{id, title, unit, series: [{label, timestamps, values}]}]}, each
/// series oldest first. Metrics come from ListMetrics, values from GetMetricData.
nlohmann::json ConsoleMetrics(CloudWatchService& cloudwatch, int64_t now_ms, int minutes);

}  // namespace slipway::engine
