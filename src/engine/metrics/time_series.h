// The engine's metric store: CloudWatch-shaped series kept in memory at two resolutions,
// 10-second points for the last hour and 1-minute points beyond, bounded in series and age.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "engine/metrics/statistics.h"

namespace slipway::engine {

/// A metric's identity as CloudWatch compares it: namespace, name and dimensions.
struct MetricKey {
  std::string name_space;
  std::string name;
  /// (name, value), sorted by name: dimensions are a set, whatever order a client sends.
  std::vector<std::pair<std::string, std::string>> dimensions;

  auto operator<=>(const MetricKey&) const = default;
};

/// One dimension condition of ListMetrics: a metric must have dimension `name`, with `value`
/// unless that is empty.
struct DimensionFilter {
  std::string name, value;
};

/// What the store keeps at most.
struct MetricLimits {
  /// Series kept; samples of a new series past this are dropped (and counted).
  size_t max_series = 500;
  /// How long 10-second points are kept (CloudWatch keeps high-resolution data 3 hours; the
  /// engine, one).
  int64_t high_resolution_seconds = 3600;
  /// How long 1-minute points are kept.
  int64_t minute_seconds = 24 * 3600;
};

/// One datapoint of a query: the period's start (epoch seconds) and the statistic's value.
struct Datapoint {
  int64_t timestamp = 0;
  double value = 0;
};

/// The metric store. Thread-safe: the engine records from its loop while API threads query.
/// Memory is bounded by max_series × (360 + 1,440) points at the default limits, each a few
/// dozen bytes plus its distribution's non-empty bins.
class MetricStore {
 public:
  explicit MetricStore(MetricLimits limits = {}) : limits_(limits) {}

  /// Adds `samples` taken at `timestamp` (epoch seconds) to the series `key`, in its 10-second
  /// and its 1-minute point. False when the store is full and `key` is a new series.
  bool Add(const MetricKey& key, int64_t timestamp, const Statistics& samples);
  /// Drops points older than the limits allow at wall time `now`, and series left empty.
  void Prune(int64_t now);

  /// The series matching every given condition (empty strings match anything), sorted.
  std::vector<MetricKey> List(const std::string& name_space, const std::string& name,
                              const std::vector<DimensionFilter>& filters) const;
  /// `statistic` of `key` per `period` seconds over [start, end), oldest first; a period without
  /// samples has no datapoint. A period that is a multiple of 60 reads 1-minute points, any other
  /// the 10-second ones, and periods count from `start` rounded down to the resolution read.
  std::vector<Datapoint> Query(const MetricKey& key, int64_t start, int64_t end, int64_t period,
                               const Statistic& statistic) const;

  /// Samples dropped because the store was full.
  uint64_t dropped() const;
  size_t series_count() const;

 private:
  /// A point: the statistics of samples in [start, start + resolution).
  struct Point {
    int64_t start = 0;
    Statistics stats;
  };
  struct Series {
    std::deque<Point> ten_seconds;
    std::deque<Point> minutes;
  };
  static void AddTo(std::deque<Point>& points, int64_t start, const Statistics& samples);

  const MetricLimits limits_;
  mutable std::mutex mu_;
  std::map<MetricKey, Series> series_;
  uint64_t dropped_ = 0;
};

/// `dimensions` sorted by name, as MetricKey holds them.
std::vector<std::pair<std::string, std::string>> SortedDimensions(
    std::vector<std::pair<std::string, std::string>> dimensions);

}  // namespace slipway::engine
