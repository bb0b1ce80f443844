// Replies that fake credential endpoints give in tests.
#pragma once

#include <string>

namespace slipway::aws::testing {

/// An STS <Action>Response carrying the given key, secret, token and expiration.
inline std::string StsReply(const std::string& action, const std::string& key,
                            const std::string& expiration, const std::string& token = "TOKEN") {
  return "<" + action + "Response xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><" + action +
         "Result><Credentials><AccessKeyId>" + key + "</AccessKeyId><SecretAccessKey>secret-" +
         key + "</SecretAccessKey><SessionToken>" + token + "</SessionToken><Expiration>" +
         expiration + "</Expiration></Credentials></" + action + "Result></" + action + "Response>";
}

/// The JSON document IMDS and the container endpoint return.
inline std::string CredentialDocument(const std::string& key, const std::string& expiration) {
  return R"({"Code":"Success","AccessKeyId":")" + key + R"(","SecretAccessKey":"secret-)" + key +
         R"(","Token":"TOKEN-)" + key + R"(","Expiration":")" + expiration + R"("})";
}

}  // namespace slipway::aws::testing
