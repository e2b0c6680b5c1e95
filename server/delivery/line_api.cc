#include "server/delivery/line_api.h"

#include <charconv>
#include <stdexcept>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace seg::delivery {
namespace {

// An application/x-www-form-urlencoded value.
std::string formEncode(const std::string& text) {
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += fmt::format("%{:02X}", c);
    }
  }
  return out;
}

std::string baseFor(const service::DeliveryConfig& config, const std::string& path) {
  return path.ends_with("/byFile") ? config.dataApiBase : config.apiBase;
}

std::string jsonBody(const send::Json& body) {
  return body.is_null() ? "" : body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// A multipart request's fields: `file` as a text file, the rest as values.
std::vector<http::FormPart> formParts(const send::Json& fields) {
  std::vector<http::FormPart> parts;
  for (const auto& [name, value] : fields.items()) {
    http::FormPart part;
    part.name = name;
    part.value = value.is_string() ? value.get<std::string>() : value.dump();
    if (name == "file") {
      part.filename = "audience.txt";
      part.contentType = "text/plain";
    }
    parts.push_back(std::move(part));
  }
  return parts;
}

// A file of up to 1.5M IDs (51 MB) takes longer than a message to send:
// its time grows with its size, at 512 KB a second at least, so that a slow
// link is not taken for LINE not answering (an audience's creation is not
// repeated after an unclear answer).
double uploadTimeout(const service::DeliveryConfig& config, const std::vector<http::FormPart>& parts) {
  std::size_t bytes = 0;
  for (const http::FormPart& p : parts) bytes += p.value.size();
  return std::max(config.timeoutSeconds, static_cast<double>(bytes) / (512 * 1024));
}

}  // namespace

// ----------------------------------------------------------------- tokens

AccessToken::AccessToken(const service::DeliveryConfig& config, std::string channelSecret)
    : fixed_(config.accessToken),
      channelId_(config.channelId),
      channelSecret_(std::move(channelSecret)),
      base_(config.apiBase),
      timeout_(config.timeoutSeconds) {
  if (fixed_.empty() && (channelId_.empty() || channelSecret_.empty())) {
    throw std::runtime_error(
        "delivery needs a channel access token: set LINE_CHANNEL_ACCESS_TOKEN (or delivery.access_token_env or "
        "access_token_file), or delivery.channel_id with the channel secret to have short-lived tokens issued");
  }
}

std::string AccessToken::current() {
  if (!fixed_.empty()) return fixed_;
  std::lock_guard lock(mutex_);
  if (!token_.empty() && std::chrono::system_clock::now() < renewAt_) return token_;
  http::Client client(timeout_);
  const std::string body = "grant_type=client_credentials&client_id=" + formEncode(channelId_) +
                           "&client_secret=" + formEncode(channelSecret_);
  const http::ClientResponse r = client.request("POST", base_ + "/v2/oauth/accessToken", body,
                                                {{"Content-Type", "application/x-www-form-urlencoded"}});
  if (r.status != 200) {
    // LINE's answer names the problem (invalid_client...); the secret is not in it.
    throw std::runtime_error(fmt::format("LINE did not issue a channel access token: {}",
                                         r.status == 0 ? r.error : fmt::format("{} {}", r.status, r.body)));
  }
  try {
    const nlohmann::json j = nlohmann::json::parse(r.body);
    token_ = j.at("access_token").get<std::string>();
    const auto lifetime = std::chrono::seconds(j.value("expires_in", std::int64_t{2592000}));
    // Issued again when four fifths of its life are gone.
    renewAt_ = std::chrono::system_clock::now() + lifetime * 4 / 5;
  } catch (const nlohmann::json::exception& e) {
    throw std::runtime_error(fmt::format("LINE's token answer is not what its reference describes: {}", e.what()));
  }
  return token_;
}

void AccessToken::refused(const std::string& token) {
  if (fixed_.empty()) {
    std::lock_guard lock(mutex_);
    if (token_ == token) token_.clear();
  }
}

// ------------------------------------------------------------------ calls

const char* outcomeName(Outcome outcome) {
  switch (outcome) {
    case Outcome::Delivered: return "delivered";
    case Outcome::Retry: return "retry";
    case Outcome::RateLimited: return "rate_limited";
    case Outcome::Unauthorized: return "unauthorized";
    case Outcome::ReplyRefused: return "reply_refused";
    case Outcome::Refused: return "refused";
  }
  return "?";
}

std::string CallResult::failureJson() const {
  nlohmann::json j = {{"status", status}};
  try {
    j["body"] = nlohmann::json::parse(body);
  } catch (const nlohmann::json::exception&) {
    j["body"] = body;
  }
  if (!requestId.empty()) j["x-line-request-id"] = requestId;
  if (!error.empty()) j["error"] = error;
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

bool safeToRepeat(const send::LineRequest& request) {
  if (!request.header("X-Line-Retry-Key").empty()) return true;
  if (request.path == "/v2/bot/audienceGroup/upload" || request.path == "/v2/bot/audienceGroup/upload/byFile") {
    return request.method == "PUT";  // adding IDs again adds nothing; creating again makes a second audience
  }
  return true;  // replies (a token is good once), rich menu links and unlinks, lookups
}

CallResult call(http::Client& client, const service::DeliveryConfig& config, const std::string& token,
                const send::LineRequest& request) {
  const bool multipart = send::isMultipart(request);
  http::HeaderList headers = {{"Authorization", "Bearer " + token}};
  for (const auto& h : request.headers) {
    if (!(multipart && h.first == "Content-Type")) headers.push_back(h);  // the client adds it with the boundary
  }
  const std::string url = baseFor(config, request.path) + request.path;
  http::ClientResponse r;
  if (multipart) {
    const std::vector<http::FormPart> parts = formParts(request.body);
    r = client.multipart(request.method, url, parts, headers, uploadTimeout(config, parts));
  } else {
    r = client.request(request.method, url, jsonBody(request.body), headers);
  }
  CallResult out;
  out.status = r.status;
  out.body = r.body;
  out.seconds = r.seconds;
  out.requestId = r.header("x-line-request-id");
  out.acceptedRequestId = r.header("x-line-accepted-request-id");
  if (r.status == 0) {
    out.error = r.error;
    out.outcome = Outcome::Retry;
    // The request never left: connecting failed.
    out.nothingSent = r.error.find("onnect") != std::string::npos || r.error.find("resolve") != std::string::npos;
    return out;
  }
  const bool keyed = !request.header("X-Line-Retry-Key").empty();
  if (r.status >= 200 && r.status < 300) {
    out.outcome = Outcome::Delivered;
  } else if (r.status == 409 && keyed) {
    out.outcome = Outcome::Delivered;  // "The retry key is already accepted"
  } else if (r.status == 429) {
    out.outcome = Outcome::RateLimited;
    const std::string after = r.header("retry-after");
    long seconds = 0;
    if (std::from_chars(after.data(), after.data() + after.size(), seconds).ec == std::errc() && seconds > 0) {
      out.retryAfter = std::chrono::seconds(std::min(seconds, 3600L));
    }
    // A monthly quota used up is a 429 too, but waiting seconds does not help.
    if (r.body.find("monthly limit") != std::string::npos) out.outcome = Outcome::Refused;
  } else if (r.status == 401) {
    out.outcome = Outcome::Unauthorized;
  } else if (r.status == 400 && request.path == "/v2/bot/message/reply" && r.body.find("reply token") != std::string::npos) {
    out.outcome = Outcome::ReplyRefused;
  } else if (r.status >= 500) {
    out.outcome = Outcome::Retry;
  } else {
    out.outcome = Outcome::Refused;
  }
  return out;
}

}  // namespace seg::delivery
