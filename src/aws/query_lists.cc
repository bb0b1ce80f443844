// List flattening and number reading shared by the ELBv2 and EC2 clients.
#include "aws/query_lists.h"

#include <charconv>

namespace slipway::aws {

std::string ListKey(ListStyle style, const std::string& name, size_t index) {
  return name + (style == ListStyle::kQuery ? ".member." : ".") + std::to_string(index + 1);
}

void AddList(QueryParams& params, ListStyle style, const std::string& name,
             const std::vector<std::string>& values) {
  for (size_t i = 0; i < values.size(); ++i) params[ListKey(style, name, i)] = values[i];
}

void AddIfSet(QueryParams& params, const std::string& key, const std::string& value) {
  if (!value.empty()) params[key] = value;
}

void AddIfSet(QueryParams& params, const std::string& key, int value) {
  if (value != 0) params[key] = std::to_string(value);
}

int IntOr(const std::string& text, int fallback) {
  int value = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  return ec == std::errc() && ptr == end && !text.empty() ? value : fallback;
}

std::vector<std::string> TextsAt(const XmlNode& reply, const std::string& path,
                                 const std::string& name) {
  std::vector<std::string> out;
  if (const XmlNode* list = reply.Find(path)) {
    for (const auto& child : list->children) {
      if (child.name == name) out.push_back(child.text);
    }
  }
  return out;
}

}  // namespace slipway::aws
