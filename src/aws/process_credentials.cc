// Running credential_process. Its stderr goes to a temporary file, not into the JSON it prints,
// so a helper's prompts and warnings cannot corrupt the reply and still explain a failure.
#include "aws/process_credentials.h"

#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "aws/json_reply.h"
#include "base/child_process.h"
#include "base/strings.h"
#include "base/unique_fd.h"

namespace slipway::aws {

Result<IssuedCredentials> ParseProcessCredentials(const std::string& output) {
  const std::string what = "credential_process output";
  auto j = nlohmann::json::parse(output, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return Fail(what + ": not a JSON object");
  auto version = j.find("Version");
  if (version == j.end() || !version->is_number_integer() || version->get<int>() != 1) {
    return Fail(what + ": \"Version\" must be 1");
  }
  ReplyReader read(what);
  IssuedCredentials out{{read.String(j, "AccessKeyId"), read.String(j, "SecretAccessKey"),
                         read.String(j, "SessionToken")},
                        std::nullopt};
  const std::string expiration = read.String(j, "Expiration");
  if (!read.ok()) return tl::unexpected(read.error());
  if (out.creds.access_key_id.empty() || out.creds.secret_access_key.empty()) {
    return Fail(what + ": lacks AccessKeyId or SecretAccessKey");
  }
  if (!expiration.empty()) {
    out.expiration = ParseIsoTime(expiration);
    if (!out.expiration) return Fail(what + ": malformed Expiration '" + expiration + "'");
  }
  return out;
}

Result<IssuedCredentials> RunCredentialProcess(const std::string& command) {
  const char* tmpdir = std::getenv("TMPDIR");
  std::string err_path =
      std::string(tmpdir && *tmpdir ? tmpdir : "/tmp") + "/slipway-credential-process-XXXXXX";
  UniqueFd err_fd(::mkstemp(err_path.data()));
  if (!err_fd.valid())
    return Fail("credential_process: cannot create a file for its stderr in " + err_path);
  err_fd.Reset();
  Result<CommandOutput> ran = RunCommand(
      {"/bin/sh", "-c", "eval \"$1\" 2>\"$2\"", "credential_process", command, err_path});
  std::ifstream err_in(err_path);
  std::stringstream err;
  err << err_in.rdbuf();
  ::unlink(err_path.c_str());
  if (!ran) return Fail("credential_process " + command + ": " + ran.error().message);
  if (ran->status.code != 0) {
    return Fail("credential_process " + command + ": exit code " +
                std::to_string(ran->status.code) +
                (Trim(err.str()).empty() ? "" : ": " + Trim(err.str())));
  }
  auto parsed = ParseProcessCredentials(ran->output);
  if (!parsed) return Fail("credential_process " + command + ": " + parsed.error().message);
  return parsed;
}

}  // namespace slipway::aws
