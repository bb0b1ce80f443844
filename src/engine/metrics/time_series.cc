// The metric store: two resolutions per series, aggregation into query periods, retention.
#include "engine/metrics/time_series.h"

#include <algorithm>

namespace slipway::engine {

namespace {

constexpr int64_t kHighResolution = 10;
constexpr int64_t kMinute = 60;

/// The start of the `size`-second bucket holding `t`, for negative t too.
int64_t Floor(int64_t t, int64_t size) {
  const int64_t q = t / size;
  return (t % size != 0 && t < 0 ? q - 1 : q) * size;
}

bool Matches(const MetricKey& key, const std::vector<DimensionFilter>& filters) {
  for (const auto& f : filters) {
    auto it = std::find_if(key.dimensions.begin(), key.dimensions.end(),
                           [&f](const auto& d) { return d.first == f.name; });
    if (it == key.dimensions.end() || (!f.value.empty() && it->second != f.value)) return false;
  }
  return true;
}

}  // namespace

std::vector<std::pair<std::string, std::string>> SortedDimensions(
    std::vector<std::pair<std::string, std::string>> dimensions) {
  std::sort(dimensions.begin(), dimensions.end());
  return dimensions;
}

void MetricStore::AddTo(std::deque<Point>& points, int64_t start, const Statistics& samples) {
  // Samples arrive in time order almost always, so the newest point is the one to look at.
  if (points.empty() || points.back().start < start) {
    points.push_back({start, samples});
    return;
  }
  auto it = std::lower_bound(points.begin(), points.end(), start,
                             [](const Point& p, int64_t s) { return p.start < s; });
  if (it != points.end() && it->start == start) {
    it->stats.Merge(samples);
  } else {
    points.insert(it, {start, samples});
  }
}

bool MetricStore::Add(const MetricKey& key, int64_t timestamp, const Statistics& samples) {
  if (samples.count == 0) return true;
  std::lock_guard lock(mu_);
  auto it = series_.find(key);
  if (it == series_.end()) {
    if (series_.size() >= limits_.max_series) {
      dropped_ += samples.count;
      return false;
    }
    it = series_.emplace(key, Series{}).first;
  }
  AddTo(it->second.ten_seconds, Floor(timestamp, kHighResolution), samples);
  AddTo(it->second.minutes, Floor(timestamp, kMinute), samples);
  return true;
}

void MetricStore::Prune(int64_t now) {
  std::lock_guard lock(mu_);
  const int64_t ten_cutoff = now - limits_.high_resolution_seconds;
  const int64_t minute_cutoff = now - limits_.minute_seconds;
  for (auto it = series_.begin(); it != series_.end();) {
    auto& s = it->second;
    while (!s.ten_seconds.empty() && s.ten_seconds.front().start + kHighResolution <= ten_cutoff) {
      s.ten_seconds.pop_front();
    }
    while (!s.minutes.empty() && s.minutes.front().start + kMinute <= minute_cutoff) s.minutes.pop_front();
    it = s.ten_seconds.empty() && s.minutes.empty() ? series_.erase(it) : std::next(it);
  }
}

std::vector<MetricKey> MetricStore::List(const std::string& name_space, const std::string& name,
                                         const std::vector<DimensionFilter>& filters) const {
  std::lock_guard lock(mu_);
  std::vector<MetricKey> out;
  for (const auto& [key, series] : series_) {
    if (!name_space.empty() && key.name_space != name_space) continue;
    if (!name.empty() && key.name != name) continue;
    if (Matches(key, filters)) out.push_back(key);
  }
  return out;
}

std::vector<Datapoint> MetricStore::Query(const MetricKey& key, int64_t start, int64_t end,
                                          int64_t period, const Statistic& statistic) const {
  std::vector<Datapoint> out;
  if (period <= 0 || start >= end) return out;
  std::lock_guard lock(mu_);
  auto it = series_.find(key);
  if (it == series_.end()) return out;
  const bool minutes = period % kMinute == 0;
  const std::deque<Point>& points = minutes ? it->second.minutes : it->second.ten_seconds;
  // As CloudWatch does, periods count from the start time rounded down to the resolution read;
  // a point counts in the period its start lies in.
  const int64_t origin = Floor(start, minutes ? kMinute : kHighResolution);
  auto p = std::lower_bound(points.begin(), points.end(), origin,
                            [](const Point& x, int64_t s) { return x.start < s; });
  Statistics current;
  int64_t current_start = 0;
  for (; p != points.end() && p->start < end; ++p) {
    const int64_t bucket = origin + Floor(p->start - origin, period);
    if (current.count > 0 && bucket != current_start) {
      out.push_back({current_start, Compute(current, statistic)});
      current = {};
    }
    current_start = bucket;
    current.Merge(p->stats);
  }
  if (current.count > 0) out.push_back({current_start, Compute(current, statistic)});
  return out;
}

uint64_t MetricStore::dropped() const {
  std::lock_guard lock(mu_);
  return dropped_;
}

size_t MetricStore::series_count() const {
  std::lock_guard lock(mu_);
  return series_.size();
}

}  // namespace slipway::engine
