// Recursive-descent parser for the subset of XML AWS Query APIs return.
#include "aws/xml.h"

#include <charconv>
#include <cstdint>

#include "base/strings.h"

namespace slipway::aws {

const XmlNode* XmlNode::Child(const std::string& want) const {
  for (const auto& c : children) {
    if (c.name == want) return &c;
  }
  return nullptr;
}

const XmlNode* XmlNode::Find(const std::string& path) const {
  const XmlNode* node = this;
  for (const auto& step : Split(path, '/')) {
    node = node->Child(step);
    if (node == nullptr) return nullptr;
  }
  return node;
}

std::string XmlNode::Text(const std::string& path) const {
  const XmlNode* n = Find(path);
  return n ? n->text : "";
}

std::vector<const XmlNode*> XmlNode::Members(const std::string& path) const {
  std::vector<const XmlNode*> out;
  const XmlNode* list = path.empty() ? this : Find(path);
  if (list == nullptr) return out;
  for (const auto& c : list->children) {
    if (c.name == "member") out.push_back(&c);
  }
  return out;
}

namespace {

class Parser {
 public:
  explicit Parser(const std::string& s) : s_(s) {}

  Result<XmlNode> Document() {
    SkipMisc();
    auto root = Element();
    if (!root) return root;
    return root;
  }

 private:
  void SkipSpace() {
    while (pos_ < s_.size() && isspace(static_cast<unsigned char>(s_[pos_]))) ++pos_;
  }
  // Skips the XML declaration, comments and whitespace between elements.
  void SkipMisc() {
    for (;;) {
      SkipSpace();
      if (s_.compare(pos_, 2, "<?") == 0) {
        pos_ = s_.find("?>", pos_);
        pos_ = pos_ == std::string::npos ? s_.size() : pos_ + 2;
      } else if (s_.compare(pos_, 4, "<!--") == 0) {
        pos_ = s_.find("-->", pos_);
        pos_ = pos_ == std::string::npos ? s_.size() : pos_ + 3;
      } else {
        return;
      }
    }
  }

  // Appends the character "&#<digits>;" or "&#x<hex>;" names, as UTF-8. False, appending
  // nothing, when `ref` is malformed or names no Unicode scalar value: replies come from outside.
  static bool AppendCharacterReference(const std::string& ref, std::string& out) {
    const bool hex = !ref.empty() && (ref[0] == 'x' || ref[0] == 'X');
    const char* first = ref.data() + (hex ? 1 : 0);
    const char* last = ref.data() + ref.size();
    uint32_t cp = 0;
    auto [end, ec] = std::from_chars(first, last, cp, hex ? 16 : 10);
    if (first == last || ec != std::errc() || end != last) return false;
    if (cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      out += static_cast<char>(0xC0 | (cp >> 6));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      out += static_cast<char>(0xE0 | (cp >> 12));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (cp >> 18));
      out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    }
    return true;
  }

  static std::string Unescape(const std::string& raw) {
    std::string out;
    for (size_t i = 0; i < raw.size(); ++i) {
      if (raw[i] != '&') {
        out += raw[i];
        continue;
      }
      size_t semi = raw.find(';', i);
      if (semi == std::string::npos) {
        out += raw[i];
        continue;
      }
      std::string ent = raw.substr(i + 1, semi - i - 1);
      if (ent == "amp") out += '&';
      else if (ent == "lt") out += '<';
      else if (ent == "gt") out += '>';
      else if (ent == "quot") out += '"';
      else if (ent == "apos") out += '\'';
      else if (!ent.empty() && ent[0] == '#' && AppendCharacterReference(ent.substr(1), out)) {}
      else out += "&" + ent + ";";
      i = semi;
    }
    return out;
  }

  Result<XmlNode> Element() {
    if (pos_ >= s_.size() || s_[pos_] != '<') return Fail("xml: expected '<' at " + std::to_string(pos_));
    size_t name_end = s_.find_first_of(" \t\r\n/>", pos_ + 1);
    if (name_end == std::string::npos) return Fail("xml: unterminated tag");
    XmlNode node;
    node.name = s_.substr(pos_ + 1, name_end - pos_ - 1);
    size_t close = s_.find('>', name_end);
    if (close == std::string::npos) return Fail("xml: unterminated tag " + node.name);
    bool self_closing = s_[close - 1] == '/';
    pos_ = close + 1;
    if (self_closing) return node;
    std::string text;
    for (;;) {
      size_t lt = s_.find('<', pos_);
      if (lt == std::string::npos) return Fail("xml: missing </" + node.name + ">");
      text += s_.substr(pos_, lt - pos_);
      pos_ = lt;
      if (s_.compare(pos_, 2, "</") == 0) {
        size_t end = s_.find('>', pos_);
        if (end == std::string::npos) return Fail("xml: bad end tag");
        pos_ = end + 1;
        break;
      }
      if (s_.compare(pos_, 4, "<!--") == 0) {
        SkipMisc();
        continue;
      }
      auto child = Element();
      if (!child) return child;
      node.children.push_back(std::move(*child));
    }
    node.text = Unescape(node.children.empty() ? text : Trim(text));
    return node;
  }

  const std::string& s_;
  size_t pos_ = 0;
};

}  // namespace

Result<XmlNode> ParseXml(const std::string& text) { return Parser(text).Document(); }

}  // namespace slipway::aws
