// Amazon ECR as slipway calls it: signing in, repositories, and the images in them.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "aws/aws_client.h"
#include "base/result.h"

namespace slipway::aws {

/// A registry login as ECR hands it out.
struct AuthorizationToken {
  std::string token;           ///< base64 of "user:password"
  std::string proxy_endpoint;  ///< the registry's URL, "https://<account>.dkr.ecr.<region>…"
  double expires_at = 0;       ///< when the token stops working, in epoch seconds; 0 when not said
};

/// A repository.
struct Repository {
  std::string name;  ///< e.g. "shop/api"
  std::string uri;   ///< where images are pushed, "<registry host>/<name>"
  std::string arn;   ///< "arn:aws:ecr:<region>:<account>:repository/<name>"
};

/// An image named by its digest, its tag, or both; an empty field is not sent.
struct ImageId {
  std::string digest;  ///< "sha256:…"
  std::string tag;
};

/// An image in a repository.
struct ImageDetail {
  std::string digest;             ///< its manifest's digest, "sha256:…"
  std::vector<std::string> tags;  ///< tags that name it now; none for an untagged image
  double pushed_at = 0;           ///< when it was pushed, in epoch seconds
  int64_t size = 0;               ///< its size in bytes as ECR counts it
};

/// An image BatchDeleteImage did not delete, and why.
struct ImageFailure {
  ImageId image;
  std::string code;    ///< e.g. "ImageNotFound", "ImageReferencedByManifestList"
  std::string reason;  ///< ECR's words
};

/// What one BatchDeleteImage did.
struct DeletedImages {
  std::vector<ImageId> deleted;
  std::vector<ImageFailure> failures;
};

/// Typed ECR calls over `AwsClient`. Errors are AwsClient's ("api.ecr <Op>: <Code>: ...", the
/// code kept), or "ecr <Op>: unexpected reply: ..." for a reply not shaped as the model says.
class Ecr {
 public:
  explicit Ecr(AwsClient& client) : client_(client) {}

  /// A login to the account's registry (the first authorizationData); an error when there is none.
  [[nodiscard]] Result<AuthorizationToken> GetAuthorizationToken();
  /// The repositories named `names` (every repository when empty), across all pages; code
  /// RepositoryNotFoundException when one of them does not exist.
  [[nodiscard]] Result<std::vector<Repository>> DescribeRepositories(
      const std::vector<std::string>& names);
  /// Creates repository `name`; code RepositoryAlreadyExistsException when it exists already.
  [[nodiscard]] Result<Repository> CreateRepository(const std::string& name);
  /// The images `ids` name in `repository` (ECR takes up to 100 and answers them in one reply);
  /// code ImageNotFoundException when one of them names nothing, RepositoryNotFoundException
  /// when the repository does not exist.
  [[nodiscard]] Result<std::vector<ImageDetail>> DescribeImages(const std::string& repository,
                                                                const std::vector<ImageId>& ids);
  /// Deletes the images `ids` name from `repository` (up to 100). Images it could not delete
  /// are failures in the reply, not an error.
  [[nodiscard]] Result<DeletedImages> BatchDeleteImage(const std::string& repository,
                                                       const std::vector<ImageId>& ids);

 private:
  AwsClient& client_;
};

}  // namespace slipway::aws
