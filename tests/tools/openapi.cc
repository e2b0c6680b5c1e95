#include "tests/tools/openapi.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <regex>
#include <set>
#include <stdexcept>

#include <fmt/format.h>

namespace seg::openapi {
namespace {

namespace fs = std::filesystem;

// YAML as JSON: plain scalars become numbers and booleans where they read
// as such; quoted ones stay strings.
Json toJson(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map: {
      Json out = Json::object();
      for (const auto& entry : node) out[entry.first.as<std::string>()] = toJson(entry.second);
      return out;
    }
    case YAML::NodeType::Sequence: {
      Json out = Json::array();
      for (const auto& item : node) out.push_back(toJson(item));
      return out;
    }
    case YAML::NodeType::Scalar: {
      const std::string text = node.Scalar();
      if (node.Tag() == "!") return text;
      if (text == "true") return true;
      if (text == "false") return false;
      if (text == "null" || text == "~") return nullptr;
      std::int64_t i = 0;
      if (auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), i); ec == std::errc() && end == text.data() + text.size()) {
        return i;
      }
      double d = 0;
      if (auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), d); ec == std::errc() && end == text.data() + text.size()) {
        return d;
      }
      return text;
    }
    default: return nullptr;
  }
}

std::vector<std::string> split(const std::string& path) {
  std::vector<std::string> out;
  std::size_t start = 1;
  while (start <= path.size()) {
    const std::size_t end = std::min(path.find('/', start), path.size());
    out.push_back(path.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

std::size_t codePoints(const std::string& s) {
  return static_cast<std::size_t>(std::count_if(s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

// UTF-16 code units, as LINE counts text: 4-byte UTF-8 sequences are 2.
std::size_t utf16Units(const std::string& s) {
  std::size_t units = 0;
  for (unsigned char c : s) {
    if ((c & 0xC0) != 0x80) units += (c >= 0xF0) ? 2 : 1;
  }
  return units;
}

class Checker {
 public:
  explicit Checker(const Json& schemas) : schemas_(schemas) {}

  std::string run(const Json& schema, const Json& value) {
    check(schema, value, "");
    std::string out;
    for (const std::string& p : problems_) out += (out.empty() ? "" : "; ") + p;
    return out;
  }

 private:
  const Json& resolve(const std::string& ref) const {
    const std::string prefix = "#/components/schemas/";
    if (ref.rfind(prefix, 0) != 0 || !schemas_.contains(ref.substr(prefix.size()))) {
      throw std::runtime_error("unresolvable $ref " + ref);
    }
    return schemas_[ref.substr(prefix.size())];
  }

  void problem(const std::string& at, const std::string& what) {
    if (problems_.size() < 20) problems_.push_back(fmt::format("{}: {}", at.empty() ? "body" : at, what));
  }

  void check(const Json& schema, const Json& value, const std::string& at) {
    if (schema.contains("$ref")) {
      const std::string ref = schema["$ref"];
      return check(resolve(ref), value, at);
    }
    if (value.is_null() && schema.value("nullable", false)) return;
    // A discriminator picks the concrete schema by a property's value; that
    // schema's allOf names this one again, which then checks as plain.
    if (schema.contains("discriminator") && value.is_object()) {
      const Json& d = schema["discriminator"];
      const std::string property = d["propertyName"];
      if (!value.contains(property) || !value[property].is_string()) {
        return problem(at, fmt::format("needs \"{}\" to say which kind it is", property));
      }
      const std::string kind = value[property];
      if (!d.contains("mapping") || !d["mapping"].contains(kind)) {
        return problem(at + "." + property, fmt::format("\"{}\" is not a kind LINE defines here", kind));
      }
      const std::string target = d["mapping"][kind];
      if (!dispatching_.contains(target)) {
        dispatching_.insert(target);
        check(resolve(target), value, at);
        dispatching_.erase(target);
        return;
      }
    }
    if (schema.contains("allOf")) {
      for (const Json& part : schema["allOf"]) check(part, value, at);
    }
    for (const char* combinator : {"oneOf", "anyOf"}) {
      if (!schema.contains(combinator)) continue;
      std::size_t matches = 0;
      for (const Json& option : schema[combinator]) {
        Checker inner(schemas_);
        inner.dispatching_ = dispatching_;
        if (inner.run(option, value).empty()) ++matches;
      }
      if (matches == 0 || (std::string(combinator) == "oneOf" && matches > 1)) {
        problem(at, fmt::format("matches {} of the {} alternatives", matches, combinator));
      }
    }
    if (schema.contains("type") || schema.contains("properties") || schema.contains("required")) checkType(schema, value, at);
    if (schema.contains("enum") && std::find(schema["enum"].begin(), schema["enum"].end(), value) == schema["enum"].end()) {
      problem(at, fmt::format("{} is not one of {}", value.dump(), schema["enum"].dump()));
    }
  }

  void checkType(const Json& schema, const Json& value, const std::string& at) {
    const std::string type = schema.value("type", "object");
    if (type == "object") {
      if (!value.is_object()) return problem(at, "expected an object, found " + value.dump().substr(0, 60));
      if (schema.contains("required")) {
        for (const Json& name : schema["required"]) {
          if (!value.contains(name.get<std::string>())) problem(at, fmt::format("lacks required \"{}\"", name.get<std::string>()));
        }
      }
      const Json properties = schema.value("properties", Json::object());  // a copy: items() below outlives no temporary
      for (const auto& [key, v] : value.items()) {
        if (properties.contains(key)) {
          check(properties[key], v, at.empty() ? key : at + "." + key);
        } else if (schema.contains("additionalProperties")) {
          const Json& extra = schema["additionalProperties"];
          if (extra.is_boolean() && !extra.get<bool>()) problem(at, fmt::format("has \"{}\", which is not allowed", key));
          if (extra.is_object()) check(extra, v, at + "." + key);
        }
      }
    } else if (type == "array") {
      if (!value.is_array()) return problem(at, "expected an array");
      if (schema.contains("minItems") && value.size() < schema["minItems"].get<std::size_t>()) problem(at, "too few items");
      if (schema.contains("maxItems") && value.size() > schema["maxItems"].get<std::size_t>()) {
        problem(at, fmt::format("{} items, at most {}", value.size(), schema["maxItems"].get<std::size_t>()));
      }
      if (schema.contains("items")) {
        for (std::size_t i = 0; i < value.size(); ++i) check(schema["items"], value[i], fmt::format("{}[{}]", at, i));
      }
    } else if (type == "string") {
      if (!value.is_string()) return problem(at, "expected a string, found " + value.dump().substr(0, 60));
      const std::string text = value;
      if (schema.contains("minLength") && codePoints(text) < schema["minLength"].get<std::size_t>()) problem(at, "too short");
      if (schema.contains("maxLength") && codePoints(text) > schema["maxLength"].get<std::size_t>()) {
        problem(at, fmt::format("longer than {}", schema["maxLength"].get<std::size_t>()));
      }
      if (schema.contains("pattern") && !std::regex_search(text, std::regex(schema["pattern"].get<std::string>()))) {
        problem(at, fmt::format("\"{}\" does not match {}", text.substr(0, 60), schema["pattern"].get<std::string>()));
      }
      const std::string format = schema.value("format", "");
      static const std::regex uuid("^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$");
      static const std::regex uri("^[A-Za-z][A-Za-z0-9+.-]*:[^\\s]*$");
      if (format == "uuid" && !std::regex_match(text, uuid)) problem(at, "\"" + text + "\" is not a UUID");
      if (format == "uri" && !std::regex_match(text, uri)) problem(at, "\"" + text.substr(0, 60) + "\" is not a URI");
    } else if (type == "integer") {
      if (!value.is_number_integer()) return problem(at, "expected an integer, found " + value.dump().substr(0, 60));
      checkBounds(schema, value.get<double>(), at);
    } else if (type == "number") {
      if (!value.is_number()) return problem(at, "expected a number");
      checkBounds(schema, value.get<double>(), at);
    } else if (type == "boolean") {
      if (!value.is_boolean()) problem(at, "expected a boolean");
    }
  }

  void checkBounds(const Json& schema, double v, const std::string& at) {
    if (schema.contains("minimum") && v < schema["minimum"].get<double>()) problem(at, "below the minimum");
    if (schema.contains("maximum") && v > schema["maximum"].get<double>()) problem(at, "above the maximum");
  }

  const Json& schemas_;
  std::set<std::string> dispatching_;
  std::vector<std::string> problems_;
};

}  // namespace

std::optional<std::string> lineOpenApiDirectory() {
  for (const char* candidate : {SEG_SOURCE_DIR "/../shared/line-openapi", SEG_SOURCE_DIR "/../../shared/line-openapi"}) {
    if (fs::exists(fs::path(candidate) / "messaging-api.yml")) return fs::canonical(candidate).string();
  }
  return std::nullopt;
}

Spec Spec::load(const std::vector<std::string>& files) {
  Spec spec;
  for (const std::string& file : files) {
    const Json doc = toJson(YAML::LoadFile(file));
    const Json paths = doc.value("paths", Json::object());
    const Json schemas = doc["components"].value("schemas", Json::object());
    for (const auto& [path, item] : paths.items()) spec.paths_[path] = item;
    for (const auto& [name, schema] : schemas.items()) spec.schemas_[name] = schema;
  }
  return spec;
}

std::string Spec::checkSchema(const std::string& schemaName, const Json& value) const {
  if (!schemas_.contains(schemaName)) return "no schema " + schemaName;
  return Checker(schemas_).run(schemas_[schemaName], value);
}

std::string Spec::checkRequest(const std::string& method, const std::string& path,
                               const std::vector<std::pair<std::string, std::string>>& headers, const Json& body) const {
  const std::vector<std::string> parts = split(path);
  for (const auto& [pattern, item] : paths_.items()) {
    const std::vector<std::string> expected = split(pattern);
    if (expected.size() != parts.size()) continue;
    std::vector<std::pair<std::string, std::string>> params;
    bool matches = true;
    for (std::size_t i = 0; i < parts.size() && matches; ++i) {
      if (expected[i].size() > 2 && expected[i].front() == '{' && expected[i].back() == '}') {
        params.emplace_back(expected[i].substr(1, expected[i].size() - 2), parts[i]);
        matches = !parts[i].empty();
      } else {
        matches = expected[i] == parts[i];
      }
    }
    if (!matches) continue;
    const std::string verb = lower(method);
    if (!item.contains(verb)) return fmt::format("{} {}: LINE's {} has no {}", method, path, pattern, method);
    const Json& operation = item[verb];
    std::string out;
    const auto add = [&](const std::string& p) {
      if (!p.empty()) out += (out.empty() ? "" : "; ") + p;
    };
    Json parameters = item.value("parameters", Json::array());
    for (const Json& p : operation.value("parameters", Json::array())) parameters.push_back(p);
    for (const Json& p : parameters) {
      const std::string name = p["name"], in = p["in"];
      std::optional<std::string> given;
      if (in == "path") {
        for (const auto& [k, v] : params) {
          if (k == name) given = v;
        }
      } else if (in == "header") {
        for (const auto& [k, v] : headers) {
          if (lower(k) == lower(name)) given = v;
        }
      } else {
        continue;
      }
      if (!given) {
        if (p.value("required", false)) add(fmt::format("the {} parameter {} is missing", in, name));
        continue;
      }
      if (p.contains("schema")) {
        const std::string problem = Checker(schemas_).run(p["schema"], Json(*given));
        if (!problem.empty()) add(fmt::format("{} parameter {}: {}", in, name, problem));
      }
    }
    if (operation.contains("requestBody")) {
      const Json& rb = operation["requestBody"];
      if (body.is_null()) {
        if (rb.value("required", false)) add("the request needs a body");
      } else if (rb["content"].contains("application/json")) {
        add(Checker(schemas_).run(rb["content"]["application/json"]["schema"], body));
      } else if (rb["content"].contains("multipart/form-data")) {
        // seg keeps a form's fields as a JSON object (a file as its text).
        add(Checker(schemas_).run(rb["content"]["multipart/form-data"]["schema"], body));
      } else {
        add("LINE's endpoint takes no JSON body");
      }
    } else if (!body.is_null()) {
      add("LINE's endpoint takes no body");
    }
    return out.empty() ? "" : fmt::format("{} {}: {}", method, path, out);
  }
  return fmt::format("{} {}: LINE has no such endpoint", method, path);
}

std::string lineLimits(const std::string& method, const std::string& path,
                       const std::vector<std::pair<std::string, std::string>>& headers, const Json& body) {
  std::vector<std::string> problems;
  const bool retryable = method == "POST" && (path == "/v2/bot/message/push" || path == "/v2/bot/message/multicast" ||
                                              path == "/v2/bot/message/narrowcast" || path == "/v2/bot/message/broadcast");
  for (const auto& [k, v] : headers) {
    if (lower(k) == "x-line-retry-key" && !retryable) problems.push_back("LINE refuses X-Line-Retry-Key on this endpoint");
  }
  if (body.is_object() && body.contains("messages")) {
    const Json& messages = body["messages"];
    if (!messages.is_array() || messages.empty() || messages.size() > 5) problems.push_back("1 to 5 messages");
    for (const Json& m : messages) {
      const std::string type = m.value("type", "");
      if (type == "text") {
        const std::string text = m.value("text", "");
        if (text.empty()) problems.push_back("an empty text");
        if (utf16Units(text) > 5000) problems.push_back(fmt::format("a text of {} UTF-16 units", utf16Units(text)));
      }
      if (type == "flex") {
        const std::string alt = m.value("altText", "");
        if (alt.empty() || utf16Units(alt) > 1500) problems.push_back("an alt text of 1 to 1,500 characters");
        const Json& contents = m["contents"];
        const std::size_t bytes = contents.dump().size();
        if (contents.value("type", "") == "carousel") {
          if (contents["contents"].size() > 12) problems.push_back("more than 12 bubbles");
          if (bytes > 50 * 1024) problems.push_back("a carousel over 50 KB");
        } else if (bytes > 30 * 1024) {
          problems.push_back("a bubble over 30 KB");
        }
      }
    }
  }
  if (path.rfind("/v2/bot/audienceGroup/upload", 0) == 0 && body.is_object()) {
    if (method == "POST") {
      const std::string description = body.value("description", "");
      if (description.empty() || codePoints(description) > 120) problems.push_back("an audience description of 1 to 120 characters");
    }
    if (body.contains("audiences") && body["audiences"].size() > 10000) problems.push_back("more than 10,000 IDs");
    if (body.contains("file")) {
      const std::string file = body["file"].is_string() ? body["file"].get<std::string>() : "";
      const auto ids = std::count(file.begin(), file.end(), '\n');
      if (ids == 0 || ids > 1500000 || file.back() != '\n') problems.push_back("a file of 1 to 1,500,000 IDs, one a line");
    }
    if (body.contains("uploadDescription") && codePoints(body["uploadDescription"].get<std::string>()) > 300) {
      problems.push_back("an upload description over 300 characters");
    }
  }
  std::string out;
  for (const std::string& p : problems) out += (out.empty() ? "" : "; ") + p;
  return out.empty() ? "" : fmt::format("{} {}: {}", method, path, out);
}

}  // namespace seg::openapi
