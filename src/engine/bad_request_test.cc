// The load balancer's answers to requests it refuses, as ALB gives them.
#include "engine/bad_request.h"

#include <gtest/gtest.h>

#include <boost/asio/error.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/error.hpp>

namespace slipway::engine {
namespace {

namespace http = boost::beast::http;

TEST(BadRequestTest, MalformedRequestsGet400) {
  for (auto e : {http::error::bad_method, http::error::bad_target, http::error::bad_version,
                 http::error::bad_line_ending, http::error::bad_field, http::error::bad_value,
                 http::error::bad_content_length, http::error::bad_transfer_encoding, http::error::bad_chunk,
                 http::error::bad_chunk_extension, http::error::bad_obs_fold, http::error::buffer_overflow}) {
    EXPECT_EQ(StatusForUnreadableRequest(http::make_error_code(e)), 400) << http::make_error_code(e).message();
  }
}

TEST(BadRequestTest, LimitsGet431And413) {
  EXPECT_EQ(StatusForUnreadableRequest(http::error::header_limit), 431);
  EXPECT_EQ(StatusForUnreadableRequest(http::error::body_limit), 413);
}

TEST(BadRequestTest, AClientThatLeftOrWentQuietGetsNothing) {
  EXPECT_EQ(StatusForUnreadableRequest(http::error::end_of_stream), 0);
  EXPECT_EQ(StatusForUnreadableRequest(http::error::partial_message), 0);
  EXPECT_EQ(StatusForUnreadableRequest(boost::beast::error::timeout), 0);
  EXPECT_EQ(StatusForUnreadableRequest(boost::asio::error::connection_reset), 0);
}

TEST(BadRequestTest, VersionsHostAndTransferEncoding) {
  http::request_header<> req;
  req.method(http::verb::get);
  req.target("/");
  req.version(11);
  EXPECT_EQ(StatusForRequestHead(req), 400);  // HTTP/1.1 without Host
  req.set(http::field::host, "example.com");
  EXPECT_EQ(StatusForRequestHead(req), 0);
  req.insert(http::field::host, "other.example.com");
  EXPECT_EQ(StatusForRequestHead(req), 400);  // two Hosts
  req.erase(http::field::host);
  req.version(10);
  EXPECT_EQ(StatusForRequestHead(req), 0);  // HTTP/1.0 needs none
  req.version(99);
  EXPECT_EQ(StatusForRequestHead(req), 400);
  req.version(9);
  EXPECT_EQ(StatusForRequestHead(req), 400);
  req.version(11);
  req.set(http::field::host, "example.com");
  req.set(http::field::transfer_encoding, "gzip");
  EXPECT_EQ(StatusForRequestHead(req), 400);  // no way to tell where the body ends
  req.set(http::field::transfer_encoding, "gzip, chunked");
  EXPECT_EQ(StatusForRequestHead(req), 0);
  req.set(http::field::transfer_encoding, "chunked, chunked");
  EXPECT_EQ(StatusForRequestHead(req), 400);  // the parser reads no body; a server in front may read one
  req.set(http::field::transfer_encoding, "chunked");
  req.insert(http::field::transfer_encoding, "chunked");
  EXPECT_EQ(StatusForRequestHead(req), 400);
}

TEST(BadRequestTest, AnAbsoluteFormTargetBecomesAPathAndItsHostTheHost) {
  http::request_header<> req;
  req.method(http::verb::get);
  req.version(11);
  req.set(http::field::host, "decoy.example.com");
  req.target("HTTP://admin.example.com:8080/admin/keys?all=1");
  EXPECT_TRUE(ToOriginForm(req));
  EXPECT_EQ(req.target(), "/admin/keys?all=1");
  EXPECT_EQ(req[http::field::host], "admin.example.com:8080");
  req.target("https://user@example.com?q");
  EXPECT_TRUE(ToOriginForm(req));
  EXPECT_EQ(req.target(), "/?q");
  EXPECT_EQ(req[http::field::host], "example.com");
  req.target("http://example.com");
  EXPECT_TRUE(ToOriginForm(req));
  EXPECT_EQ(req.target(), "/");
  req.target("/already/origin-form");
  EXPECT_TRUE(ToOriginForm(req));
  EXPECT_EQ(req.target(), "/already/origin-form");
  EXPECT_EQ(req[http::field::host], "example.com");
  req.target("http:///no-host");
  EXPECT_FALSE(ToOriginForm(req));
}

TEST(BadRequestTest, WholeBodiesReachTheClientWithAContentLength) {
  http::response<http::string_body> res{http::status::ok, 11};
  res.chunked(true);
  res.body() = "hello";
  FitBodyToClient(res, http::verb::get, 11);
  EXPECT_TRUE(res.chunked());  // an HTTP/1.1 client reads chunks
  FitBodyToClient(res, http::verb::get, 10);
  EXPECT_FALSE(res.chunked());
  EXPECT_EQ(res[http::field::content_length], "5");

  http::response<http::string_body> closed{http::status::ok, 10};  // the target ended it by closing
  closed.body() = "abc";
  FitBodyToClient(closed, http::verb::get, 11);
  EXPECT_EQ(closed[http::field::content_length], "3");

  http::response<http::string_body> head{http::status::ok, 11};
  head.chunked(true);
  FitBodyToClient(head, http::verb::head, 10);
  EXPECT_TRUE(head.chunked());
  http::response<http::string_body> none{http::status::no_content, 11};
  FitBodyToClient(none, http::verb::get, 10);
  EXPECT_FALSE(none.has_content_length());
}

TEST(BadRequestTest, Titles) {
  EXPECT_STREQ(ErrorTitle(400), "400 Bad Request");
  EXPECT_STREQ(ErrorTitle(431), "431 Request Header Fields Too Large");
}

}  // namespace
}  // namespace slipway::engine
