// One datapoint's statistics: a CloudWatch StatisticSet plus a log-scale distribution of its
// samples, from which percentiles are read.
#pragma once

#include <cstdint>
#include <limits>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

namespace slipway::engine {

/// Each distribution bin spans values within a factor of kBinGrowth, so a percentile read from a
/// bin is within 1% of a sample in it.
inline constexpr double kBinGrowth = 1.02;
/// The bin of samples at or below kSmallestBinned (zero, negatives): percentiles read it as 0.
inline constexpr int32_t kZeroBin = std::numeric_limits<int32_t>::min();
inline constexpr double kSmallestBinned = 1e-9;

/// The distribution bin of `value`: floor(log(value) / log(kBinGrowth)), or kZeroBin.
int32_t BinOf(double value);
/// The value a percentile that lands in `bin` reports: the bin's geometric middle.
double BinValue(int32_t bin);

/// The statistics of the samples that fell into one datapoint.
struct Statistics {
  uint64_t count = 0;
  double sum = 0;
  double min = std::numeric_limits<double>::infinity();
  double max = -std::numeric_limits<double>::infinity();
  /// (bin, samples), sorted by bin; never holds a zero count.
  std::vector<std::pair<int32_t, uint32_t>> bins;

  /// Adds one sample.
  void Add(double value);
  /// Adds `n` samples that all fell into `bin` (their sum, min and max are added separately).
  void AddToBin(int32_t bin, uint32_t n);
  /// Adds every sample of `other`.
  void Merge(const Statistics& other);
};

/// A statistic CloudWatch computes over a period.
struct Statistic {
  enum class Kind { kSampleCount, kSum, kAverage, kMinimum, kMaximum, kPercentile };
  Kind kind = Kind::kSum;
  double percentile = 0;  ///< 0 to 100, for kPercentile
};

/// Parses "Sum", "Average", "Minimum", "Maximum", "SampleCount" or a percentile "p0" to "p100"
/// with up to two decimals ("p99.9"); nullopt for anything else (the engine computes no trimmed
/// means or other extended statistics).
std::optional<Statistic> ParseStatistic(std::string_view text);

/// `statistic` of `s`, which must hold at least one sample. Percentiles are read from the
/// distribution and clamped to [min, max].
double Compute(const Statistics& s, const Statistic& statistic);

}  // namespace slipway::engine
