#include "aws/xml.h"

#include <gtest/gtest.h>

namespace slipway::aws {

TEST(Xml, ReadsQueryReplyMembersAndUnescapesText) {
  auto doc = ParseXml(R"(<?xml version="1.0"?>
<DescribeTargetGroupsResponse xmlns="http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/">
  <DescribeTargetGroupsResult>
    <TargetGroups>
      <member><TargetGroupName>web</TargetGroupName><Matcher><HttpCode>200</HttpCode></Matcher></member>
      <member><TargetGroupName>a&amp;b</TargetGroupName></member>
    </TargetGroups>
    <Empty/>
  </DescribeTargetGroupsResult>
</DescribeTargetGroupsResponse>)");
  ASSERT_TRUE(doc) << doc.error().message;
  auto members = doc->Members("DescribeTargetGroupsResult/TargetGroups");
  ASSERT_EQ(members.size(), 2u);
  EXPECT_EQ(members[0]->Text("Matcher/HttpCode"), "200");
  EXPECT_EQ(members[1]->Text("TargetGroupName"), "a&b");
  EXPECT_NE(doc->Find("DescribeTargetGroupsResult/Empty"), nullptr);
  EXPECT_EQ(doc->Find("DescribeTargetGroupsResult/Missing"), nullptr);
}

TEST(Xml, UnterminatedDocumentIsAnError) {
  EXPECT_FALSE(ParseXml("<a><b>x</b>"));
}

TEST(Xml, ReadsCharacterReferencesAndCdata) {
  auto doc = ParseXml("<m>&#65;&#x42;&#xe9;&#8364; <![CDATA[<not a tag> & more]]></m>");
  ASSERT_TRUE(doc) << doc.error().message;
  EXPECT_EQ(doc->text, "AB\xc3\xa9\xe2\x82\xac <not a tag> & more");
}

// A reply comes from outside: whatever is not well-formed XML is refused, and the error says where.
TEST(Xml, RefusesWhatIsNotWellFormed) {
  for (const char* bad : {"", "<a>", "<a></b>", "<a>&#ore;</a>", "<a>&#xD800;</a>", "<a>&unknown;</a>",
                          "<a><b></a></b>", "<a/><b/>", "text", "<a>\xff</a>"}) {
    EXPECT_FALSE(ParseXml(bad)) << bad;
  }
  auto r = ParseXml("<a>\n<b></c></a>");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "xml: mismatched tag at line 2, column 6");
}

TEST(Xml, RefusesDocumentTypesSoNoEntityIsExpanded) {
  auto r = ParseXml(R"(<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x "xxxxxxxxxx"><!ENTITY y "&x;&x;&x;&x;">]><a>&y;</a>)");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "xml: a document type declaration is not accepted");
}

// Nesting is bounded, so a hostile reply cannot exhaust the stack of the reader or of whoever
// walks the tree (100,000 levels crashed the previous hand-written reader).
TEST(Xml, BoundsNesting) {
  auto nested = [](int depth) {
    std::string s;
    for (int i = 0; i < depth; ++i) s += "<a>";
    for (int i = 0; i < depth; ++i) s += "</a>";
    return s;
  };
  EXPECT_TRUE(ParseXml(nested(64)));
  auto r = ParseXml(nested(100000));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "xml: elements nested deeper than 64");
}

}  // namespace slipway::aws
