// The XML reader for Query-protocol replies, on expat: well-formedness, entities, character
// references, CDATA and encodings are expat's; this file only builds the element tree and bounds it.
#include "aws/xml.h"

#include <expat.h>

#include <climits>
#include <memory>

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

// AWS replies nest a handful of levels; anything deeper is not a reply, and an unbounded tree
// would let one answer exhaust the stack of whoever walks it.
constexpr size_t kMaxDepth = 64;

struct ParserDeleter {
  void operator()(XML_ParserStruct* p) const { XML_ParserFree(p); }
};

// Builds the tree as expat reports elements. `open` holds the path from the root to the element
// being read; a finished element moves into its parent's children.
class TreeBuilder {
 public:
  explicit TreeBuilder(XML_Parser parser) : parser_(parser) {
    XML_SetUserData(parser, this);
    XML_SetElementHandler(parser, &TreeBuilder::OnStart, &TreeBuilder::OnEnd);
    XML_SetCharacterDataHandler(parser, &TreeBuilder::OnText);
    // No reply has a document type; refusing it leaves no entity definitions to expand.
    XML_SetStartDoctypeDeclHandler(parser, &TreeBuilder::OnDoctype);
  }

  Result<XmlNode> Parse(const std::string& text) {
    if (XML_Parse(parser_, text.data(), static_cast<int>(text.size()), XML_TRUE) == XML_STATUS_ERROR) {
      if (!refusal_.empty()) return Fail("xml: " + refusal_);
      return Fail(std::string("xml: ") + XML_ErrorString(XML_GetErrorCode(parser_)) + " at line " +
                  std::to_string(XML_GetCurrentLineNumber(parser_)) + ", column " +
                  std::to_string(XML_GetCurrentColumnNumber(parser_) + 1));
    }
    return std::move(root_);
  }

 private:
  static void OnStart(void* self, const XML_Char* name, const XML_Char**) {
    auto* b = static_cast<TreeBuilder*>(self);
    if (b->open_.size() >= kMaxDepth) return b->Refuse("elements nested deeper than " + std::to_string(kMaxDepth));
    b->open_.push_back({});
    b->open_.back().node.name = name;
  }

  static void OnText(void* self, const XML_Char* s, int len) {
    auto* b = static_cast<TreeBuilder*>(self);
    if (!b->open_.empty()) b->open_.back().text.append(s, static_cast<size_t>(len));
  }

  static void OnEnd(void* self, const XML_Char*) {
    auto* b = static_cast<TreeBuilder*>(self);
    if (!b->refusal_.empty() || b->open_.empty()) return;  // expat may report an end after a stop
    Open done = std::move(b->open_.back());
    b->open_.pop_back();
    // An element with children keeps only its trimmed text: the indentation between them.
    done.node.text = done.node.children.empty() ? std::move(done.text) : Trim(done.text);
    if (b->open_.empty()) {
      b->root_ = std::move(done.node);
    } else {
      b->open_.back().node.children.push_back(std::move(done.node));
    }
  }

  static void OnDoctype(void* self, const XML_Char*, const XML_Char*, const XML_Char*, int) {
    static_cast<TreeBuilder*>(self)->Refuse("a document type declaration is not accepted");
  }

  void Refuse(std::string why) {
    refusal_ = std::move(why);
    XML_StopParser(parser_, XML_FALSE);
  }

  struct Open {
    XmlNode node;
    std::string text;
  };
  XML_Parser parser_;
  std::vector<Open> open_;
  XmlNode root_;
  std::string refusal_;
};

}  // namespace

Result<XmlNode> ParseXml(const std::string& text) {
  if (text.size() > static_cast<size_t>(INT_MAX)) return Fail("xml: document too large");
  std::unique_ptr<XML_ParserStruct, ParserDeleter> parser(XML_ParserCreate("UTF-8"));
  if (!parser) return Fail("xml: out of memory");
  return TreeBuilder(parser.get()).Parse(text);
}

}  // namespace slipway::aws
