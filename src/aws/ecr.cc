// ECR requests built and replies read as botocore's ecr 2015-09-21 model has them.
#include "aws/ecr.h"

#include <nlohmann/json.hpp>

#include "aws/json_reply.h"

namespace slipway::aws {

using nlohmann::json;

namespace {

json IdsJson(const std::vector<ImageId>& ids) {
  json out = json::array();
  for (const auto& id : ids) {
    json one = json::object();
    if (!id.digest.empty()) one["imageDigest"] = id.digest;
    if (!id.tag.empty()) one["imageTag"] = id.tag;
    out.push_back(std::move(one));
  }
  return out;
}

ImageId ReadImageId(ReplyReader& read, const json& id) {
  return {read.String(id, "imageDigest"), read.String(id, "imageTag")};
}

ImageDetail ReadImageDetail(ReplyReader& read, const json& d) {
  return {read.String(d, "imageDigest"), read.Strings(d, "imageTags"),
          read.Number(d, "imagePushedAt"), read.Int(d, "imageSizeInBytes")};
}

ImageFailure ReadImageFailure(ReplyReader& read, const json& f) {
  return {ReadImageId(read, read.Object(f, "imageId")), read.String(f, "failureCode"),
          read.String(f, "failureReason")};
}

Repository ReadRepository(ReplyReader& read, const json& r) {
  return {read.String(r, "repositoryName"), read.String(r, "repositoryUri"),
          read.String(r, "repositoryArn")};
}

}  // namespace

Result<AuthorizationToken> Ecr::GetAuthorizationToken() {
  auto r = client_.Json(kEcr, "GetAuthorizationToken", json::object());
  if (!r) return tl::unexpected(r.error());
  ReplyReader read("ecr GetAuthorizationToken");
  const json& list = read.List(*r, "authorizationData");
  if (!read.ok()) return tl::unexpected(read.error());
  if (list.empty() || !list[0].is_object()) {
    return Fail("ecr GetAuthorizationToken: the reply has no authorizationData");
  }
  const json& data = list[0];
  return read.Finish(AuthorizationToken{read.String(data, "authorizationToken"),
                                        read.String(data, "proxyEndpoint"),
                                        read.Number(data, "expiresAt")});
}

Result<std::vector<Repository>> Ecr::DescribeRepositories(const std::vector<std::string>& names) {
  json body = json::object();
  if (!names.empty()) body["repositoryNames"] = names;
  std::vector<Repository> out;
  auto read = ReadJsonPages(
      "ecr DescribeRepositories", body,
      [&](const json& page) { return client_.Json(kEcr, "DescribeRepositories", page); },
      [&](ReplyReader& reader, const json& reply) {
        for (Repository& repo : reader.Objects(reply, "repositories", ReadRepository)) out.push_back(std::move(repo));
      });
  if (!read) return tl::unexpected(read.error());
  return out;
}

Result<Repository> Ecr::CreateRepository(const std::string& name) {
  auto r = client_.Json(kEcr, "CreateRepository", {{"repositoryName", name}});
  if (!r) return tl::unexpected(r.error());
  ReplyReader read("ecr CreateRepository");
  Repository repo = ReadRepository(read, read.Object(*r, "repository"));
  return read.Finish(std::move(repo));
}

Result<std::vector<ImageDetail>> Ecr::DescribeImages(const std::string& repository,
                                                     const std::vector<ImageId>& ids) {
  // With imageIds ECR answers every image in one reply and refuses nextToken.
  auto r = client_.Json(kEcr, "DescribeImages",
                        {{"repositoryName", repository}, {"imageIds", IdsJson(ids)}});
  if (!r) return tl::unexpected(r.error());
  ReplyReader read("ecr DescribeImages");
  return read.Finish(read.Objects(*r, "imageDetails", ReadImageDetail));
}

Result<DeletedImages> Ecr::BatchDeleteImage(const std::string& repository,
                                            const std::vector<ImageId>& ids) {
  auto r = client_.Json(kEcr, "BatchDeleteImage",
                        {{"repositoryName", repository}, {"imageIds", IdsJson(ids)}});
  if (!r) return tl::unexpected(r.error());
  ReplyReader read("ecr BatchDeleteImage");
  DeletedImages out;
  out.deleted = read.Objects(*r, "imageIds", ReadImageId);
  out.failures = read.Objects(*r, "failures", ReadImageFailure);
  return read.Finish(std::move(out));
}

}  // namespace slipway::aws
