// cgroup removal: rmdir only ever takes an empty cgroup, so a busy one is left for later.
#include "engine/runtime/cgroup_janitor.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <thread>

namespace slipway::engine {

namespace fs = std::filesystem;

namespace {

// Longest list of names remembered as given up; more are still removed at engine stop.
constexpr size_t kMaxGivenUp = 1000;

bool ValidName(const std::string& name) {
  return !name.empty() && name != "." && name != ".." && name.find('/') == std::string::npos;
}

}  // namespace

bool RemoveCgroupTree(const std::string& relative, const std::string& cgroup_fs) {
  std::vector<fs::path> roots{fs::path(cgroup_fs) / relative};
  std::error_code ec;
  for (const auto& hierarchy : fs::directory_iterator(cgroup_fs, ec)) {
    if (hierarchy.is_directory(ec) && !hierarchy.is_symlink(ec)) roots.push_back(hierarchy.path() / relative);
  }
  bool clean = true;
  for (const auto& root : roots) {
    if (!fs::is_directory(root, ec)) continue;
    std::vector<fs::path> dirs;
    for (auto it = fs::recursive_directory_iterator(root, ec); !ec && it != fs::recursive_directory_iterator();
         it.increment(ec)) {
      if (it->is_directory(ec) && !it->is_symlink(ec)) dirs.push_back(it->path());
    }
    // Deepest first: a cgroup with children cannot go.
    std::sort(dirs.begin(), dirs.end(), [](const fs::path& a, const fs::path& b) {
      return std::distance(a.begin(), a.end()) > std::distance(b.begin(), b.end());
    });
    dirs.push_back(root);
    for (const auto& dir : dirs) {
      if (::rmdir(dir.c_str()) != 0 && errno != ENOENT) clean = false;
    }
  }
  return clean;
}

CgroupJanitor::CgroupJanitor(std::string base, std::string cgroup_fs)
    : base_(std::move(base)), cgroup_fs_(std::move(cgroup_fs)) {}

bool CgroupJanitor::RemoveLocked(const std::string& name, SteadyTime now) {
  if (!ValidName(name)) return true;
  if (RemoveCgroupTree(base_ + "/" + name, cgroup_fs_)) {
    busy_.erase(name);
    return true;
  }
  Busy& b = busy_[name];
  ++b.attempts;
  if (b.attempts >= kMaxAttempts) {
    busy_.erase(name);
    if (given_up_.size() < kMaxGivenUp) given_up_.push_back(name);
    return false;
  }
  b.next = now + kFirstRetry * (1 << (b.attempts - 1));
  return false;
}

bool CgroupJanitor::Remove(const std::string& name, SteadyTime now) {
  std::lock_guard lock(mu_);
  busy_.erase(name);  // a fresh end: a full set of attempts
  return RemoveLocked(name, now);
}

int CgroupJanitor::Retry(SteadyTime now) {
  std::lock_guard lock(mu_);
  std::vector<std::string> due;
  for (const auto& [name, b] : busy_) {
    if (b.next <= now) due.push_back(name);
  }
  int removed = 0;
  for (const auto& name : due) removed += RemoveLocked(name, now) ? 1 : 0;
  return removed;
}

std::vector<std::string> CgroupJanitor::Pending() const {
  std::lock_guard lock(mu_);
  std::vector<std::string> out;
  for (const auto& [name, b] : busy_) out.push_back(name);
  return out;
}

std::vector<std::string> CgroupJanitor::GivenUp() const {
  std::lock_guard lock(mu_);
  return given_up_;
}

int CgroupJanitor::RemoveLeftovers(const std::function<bool(const std::string&)>& keep, SteadyTime now) {
  std::lock_guard lock(mu_);
  // The names under base in any hierarchy (v1 controllers each hold their own copy).
  std::vector<fs::path> roots{fs::path(cgroup_fs_) / base_};
  std::error_code ec;
  for (const auto& hierarchy : fs::directory_iterator(cgroup_fs_, ec)) {
    if (hierarchy.is_directory(ec) && !hierarchy.is_symlink(ec)) roots.push_back(hierarchy.path() / base_);
  }
  std::vector<std::string> names;
  for (const auto& root : roots) {
    for (const auto& child : fs::directory_iterator(root, ec)) {
      if (child.is_directory(ec) && !child.is_symlink(ec)) names.push_back(child.path().filename().string());
    }
  }
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  int removed = 0;
  for (const auto& name : names) {
    if (keep(name)) continue;
    busy_.erase(name);
    removed += RemoveLocked(name, now) ? 1 : 0;
  }
  return removed;
}

bool CgroupJanitor::RemoveAll(int attempts, Millis wait) {
  std::lock_guard lock(mu_);
  for (int i = 0; i < attempts; ++i) {
    if (i > 0) std::this_thread::sleep_for(wait);
    if (RemoveCgroupTree(base_, cgroup_fs_)) {
      busy_.clear();
      given_up_.clear();
      return true;
    }
  }
  return false;
}

}  // namespace slipway::engine
