// ECR's rules for the values its API takes and gives: repository names, image tags and digests,
// repository ARNs and authorization tokens. Pure functions over strings.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace slipway::engine {

/// Whether `name` is a repository name ECR accepts: 2 to 256 characters of lower-case path
/// components ("team/web", "a.b_c--d"), per the model's RepositoryName pattern. Such a name
/// never holds "..", an empty component or a leading '/', so it is safe as a relative path.
bool ValidRepositoryName(std::string_view name);

/// Whether `tag` is a tag the registry can hold: [A-Za-z0-9_] then up to 127 of [A-Za-z0-9_.-]
/// (the distribution spec's grammar; ECR's model allows longer tags that no registry stores).
bool ValidImageTag(std::string_view tag);

/// Whether `digest` is "sha256:" and 64 lower-case hex digits, the only digests ECR gives.
bool ValidImageDigest(std::string_view digest);

/// "arn:aws:ecr:<region>:<account>:repository/<name>".
std::string RepositoryArn(std::string_view region, std::string_view account, std::string_view name);

/// The repository name in `arn` when it is a repository ARN of `region` and `account`, else
/// nullopt (a malformed ARN, another service, region or account, or an invalid name).
std::optional<std::string> RepositoryFromArn(std::string_view arn, std::string_view region,
                                             std::string_view account);

/// Standard base64 (RFC 4648, with padding).
std::string Base64Encode(std::string_view bytes);

/// ECR's authorization token for the registry user: base64 of "AWS:<password>".
std::string AuthorizationToken(std::string_view password);

}  // namespace slipway::engine
