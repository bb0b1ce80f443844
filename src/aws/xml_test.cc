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

TEST(Xml, ReadsCharacterReferencesAndKeepsMalformedOnesAsText) {
  auto doc = ParseXml("<m>&#65;&#x42;&#xe9;&#8364; &#ore; &#; &#x; &#99999999999; &#xD800;</m>");
  ASSERT_TRUE(doc) << doc.error().message;
  EXPECT_EQ(doc->text, "AB\xc3\xa9\xe2\x82\xac &#ore; &#; &#x; &#99999999999; &#xD800;");
}

}  // namespace slipway::aws
