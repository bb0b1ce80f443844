// The XML reader for Query-protocol replies (elements and text; attributes are skipped).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "base/result.h"

namespace slipway::aws {

/// One element: its name, its text content and its child elements in order.
struct XmlNode {
  std::string name;
  std::string text;
  std::vector<XmlNode> children;

  /// First child named `name`, or nullptr.
  const XmlNode* Child(const std::string& name) const;
  /// Follows a '/'-separated path of child names; nullptr if any step is missing.
  const XmlNode* Find(const std::string& path) const;
  /// Text at `path`, or empty.
  std::string Text(const std::string& path) const;
  /// The <member> children of the element at `path` (Query lists).
  std::vector<const XmlNode*> Members(const std::string& path) const;
};

/// Parses a document and returns its root element.
[[nodiscard]] Result<XmlNode> ParseXml(const std::string& text);

}  // namespace slipway::aws
