// Checks what seg sends to LINE (and what LINE sends to seg) against LINE's
// own OpenAPI files (../shared/line-openapi/*.yml): the operation for a
// method and path, its path and header parameters, and the request body
// against the schema, following `$ref`, `allOf` and the `discriminator`
// mappings (a plain JSON-schema validator ignores them and would check a
// sticker only as a bare message). LINE's documented limits that the
// schemas do not state are checked by lineLimits().
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace seg::openapi {

using Json = nlohmann::json;

// The folder with LINE's files, or nullopt when it is absent (a user's
// clone): tests skip then, saying so.
std::optional<std::string> lineOpenApiDirectory();

class Spec {
 public:
  // Loads one or more OpenAPI files (their paths and schemas are merged).
  static Spec load(const std::vector<std::string>& files);

  // What is wrong with the request ("" when nothing): no operation for the
  // method and path, a bad path or header parameter, a body that breaks
  // the schema (each problem with its JSON path).
  std::string checkRequest(const std::string& method, const std::string& path,
                           const std::vector<std::pair<std::string, std::string>>& headers, const Json& body) const;
  // What is wrong with `value` as an instance of the named schema.
  std::string checkSchema(const std::string& schemaName, const Json& value) const;

 private:
  Json paths_ = Json::object();
  Json schemas_ = Json::object();
};

// LINE's limits from the Messaging API reference that the schemas lack:
// texts of 1 to 5,000 UTF-16 units, an alt text of at most 1,500, at most
// 12 bubbles, 30 KB a bubble and 50 KB a carousel, an audience description
// of 1 to 120 characters, retry keys only where LINE takes them, 1 to 5
// messages, 500 recipients. "" when nothing is wrong.
std::string lineLimits(const std::string& method, const std::string& path,
                       const std::vector<std::pair<std::string, std::string>>& headers, const Json& body);

}  // namespace seg::openapi
