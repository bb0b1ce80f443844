// Datapoint statistics and the percentile read from their log-scale bins.
#include "engine/metrics/statistics.h"

#include <algorithm>
#include <charconv>
#include <cmath>

namespace slipway::engine {

namespace {

const double kLogGrowth = std::log(kBinGrowth);

}  // namespace

int32_t BinOf(double value) {
  if (!(value > kSmallestBinned)) return kZeroBin;  // also NaN
  const double bin = std::floor(std::log(value) / kLogGrowth);
  // Values past 1e300 still fit: log(1e308) / log(1.02) is about 35,800.
  return static_cast<int32_t>(bin);
}

double BinValue(int32_t bin) {
  if (bin == kZeroBin) return 0;
  return std::exp((static_cast<double>(bin) + 0.5) * kLogGrowth);
}

void Statistics::Add(double value) {
  ++count;
  sum += value;
  min = std::min(min, value);
  max = std::max(max, value);
  AddToBin(BinOf(value), 1);
}

void Statistics::AddToBin(int32_t bin, uint32_t n) {
  if (n == 0) return;
  auto it = std::lower_bound(bins.begin(), bins.end(), bin,
                             [](const auto& entry, int32_t b) { return entry.first < b; });
  if (it != bins.end() && it->first == bin) {
    it->second += n;
  } else {
    bins.insert(it, {bin, n});
  }
}

void Statistics::Merge(const Statistics& other) {
  count += other.count;
  sum += other.sum;
  min = std::min(min, other.min);
  max = std::max(max, other.max);
  for (const auto& [bin, n] : other.bins) AddToBin(bin, n);
}

std::optional<Statistic> ParseStatistic(std::string_view text) {
  using Kind = Statistic::Kind;
  if (text == "SampleCount") return Statistic{Kind::kSampleCount};
  if (text == "Sum") return Statistic{Kind::kSum};
  if (text == "Average") return Statistic{Kind::kAverage};
  if (text == "Minimum") return Statistic{Kind::kMinimum};
  if (text == "Maximum") return Statistic{Kind::kMaximum};
  if (text.size() < 2 || text.size() > 7 || text[0] != 'p') return std::nullopt;
  const std::string_view number = text.substr(1);
  const size_t dot = number.find('.');
  if (number.find_first_not_of("0123456789.") != std::string_view::npos || number.front() == '.' ||
      (dot != std::string_view::npos && (dot + 1 == number.size() || number.size() - dot - 1 > 2))) {
    return std::nullopt;
  }
  double p = 0;
  auto [end, ec] = std::from_chars(number.data(), number.data() + number.size(), p);
  if (ec != std::errc() || end != number.data() + number.size() || p < 0 || p > 100) return std::nullopt;
  return Statistic{Kind::kPercentile, p};
}

double Compute(const Statistics& s, const Statistic& statistic) {
  switch (statistic.kind) {
    case Statistic::Kind::kSampleCount:
      return static_cast<double>(s.count);
    case Statistic::Kind::kSum:
      return s.sum;
    case Statistic::Kind::kAverage:
      return s.count == 0 ? 0 : s.sum / static_cast<double>(s.count);
    case Statistic::Kind::kMinimum:
      return s.min;
    case Statistic::Kind::kMaximum:
      return s.max;
    case Statistic::Kind::kPercentile:
      break;
  }
  if (statistic.percentile <= 0) return s.min;  // p0, exactly
  uint64_t binned = 0;
  for (const auto& [bin, n] : s.bins) binned += n;
  if (binned == 0) return s.max;
  // The nearest-rank percentile: the smallest sample with at least p% of samples at or below it.
  const auto rank = std::max<uint64_t>(
      1, static_cast<uint64_t>(std::ceil(statistic.percentile / 100.0 * static_cast<double>(binned))));
  if (rank >= binned) return s.max;  // p100, exactly
  uint64_t seen = 0;
  for (const auto& [bin, n] : s.bins) {
    seen += n;
    if (seen >= rank) return std::clamp(BinValue(bin), s.min, s.max);
  }
  return s.max;
}

}  // namespace slipway::engine
