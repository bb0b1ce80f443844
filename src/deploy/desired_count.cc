// desiredCount overrides as tags, and what Fargate charges for a running task.
#include "deploy/desired_count.h"

#include <cctype>
#include <cmath>
#include <cstdlib>

#include "base/strings.h"

namespace slipway::deploy {

namespace {

// A whole number from 0 to 1000 (ECS's desiredCount as slipway sets it), nothing else.
std::optional<int> CountOf(const std::string& s) {
  if (s.empty() || s.size() > 4 || s.find_first_not_of("0123456789") != std::string::npos) return std::nullopt;
  const int n = std::atoi(s.c_str());
  if (n > 1000) return std::nullopt;
  return n;
}

// A positive finite decimal followed by `unit` (case-insensitive, optional space), e.g. "0.5 GB".
std::optional<double> WithUnit(const std::string& text, const std::string& unit) {
  std::string t = Trim(text);
  if (t.size() <= unit.size()) return std::nullopt;
  std::string tail = t.substr(t.size() - unit.size());
  for (auto& c : tail) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (tail != unit) return std::nullopt;
  const std::string number = Trim(t.substr(0, t.size() - unit.size()));
  if (number.empty() || number.find_first_not_of("0123456789.") != std::string::npos) return std::nullopt;
  char* end = nullptr;
  const double v = std::strtod(number.c_str(), &end);
  if (end != number.c_str() + number.size() || !std::isfinite(v) || v <= 0) return std::nullopt;
  return v;
}

// A plain positive whole number, as ECS's "256" or "512".
std::optional<double> Plain(const std::string& text) {
  const std::string t = Trim(text);
  if (t.empty() || t.size() > 9 || t.find_first_not_of("0123456789") != std::string::npos) return std::nullopt;
  const double v = std::atof(t.c_str());
  return v > 0 ? std::optional(v) : std::nullopt;
}

}  // namespace

std::string CountOverride::TagValue() const {
  std::string v = std::to_string(count);
  if (!by.empty()) v += " by=" + by;
  if (was) v += " was=" + std::to_string(*was);
  return v;
}

std::string CountOverride::Describe() const {
  std::string out = std::to_string(count);
  std::string why;
  if (!by.empty()) {
    std::string command = by;
    if (const size_t dash = command.find('-'); dash != std::string::npos) command[dash] = ' ';
    why = "set by " + command;
  }
  if (was) why += std::string(why.empty() ? "" : "; ") + "was " + std::to_string(*was);
  return why.empty() ? out : out + " (" + why + ")";
}

std::optional<CountOverride> ParseCountOverride(const std::string& value) {
  const std::vector<std::string> words = Split(Trim(value), ' ');
  if (words.empty()) return std::nullopt;
  auto count = CountOf(words[0]);
  if (!count) return std::nullopt;
  CountOverride out{*count, "", std::nullopt};
  for (size_t i = 1; i < words.size(); ++i) {
    const std::string& w = words[i];
    if (w.rfind("by=", 0) == 0) out.by = w.substr(3);
    else if (w.rfind("was=", 0) == 0) out.was = CountOf(w.substr(4));
    // Other words are ignored, so a later slipway may add some.
  }
  return out;
}

std::optional<CountOverride> FindCountOverride(const std::vector<aws::Tag>& tags) {
  for (const auto& t : tags) {
    if (t.key == kDesiredCountTag) return ParseCountOverride(t.value);
  }
  return std::nullopt;
}

int DefaultDesiredCount(const config::ServiceEnv& se) { return se.on_demand ? 0 : se.desired_count; }

int ReleaseDesiredCount(const config::ServiceEnv& se, const std::optional<CountOverride>& override_) {
  return override_ ? override_->count : DefaultDesiredCount(se);
}

std::optional<double> VcpusOf(const std::string& cpu) {
  if (auto units = Plain(cpu)) return *units / 1024.0;
  return WithUnit(cpu, "vcpu");
}

std::optional<double> GigabytesOf(const std::string& memory) {
  if (auto mib = Plain(memory)) return *mib / 1024.0;
  return WithUnit(memory, "gb");
}

double HourlyCost(double vcpus, double gigabytes, int running, const config::Pricing& pricing) {
  return running * (vcpus * pricing.vcpu_hour + gigabytes * pricing.gb_hour);
}

}  // namespace slipway::deploy
