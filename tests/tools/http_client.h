// An HTTP/1.1 client for tests and load tools: seg's own client (libcurl,
// not the server's stack), one connection kept alive per client.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace seg::http {
class Client;
}

namespace seg::testing {

struct HttpResult {
  int status = 0;  // 0: no response (refused, reset, timed out)
  std::string body;
  std::string error;  // libcurl's, when status is 0
  double seconds = 0;
  std::vector<std::pair<std::string, std::string>> headers;  // names in lower case
};

using Headers = std::vector<std::pair<std::string, std::string>>;

class HttpClient {
 public:
  explicit HttpClient(double timeoutSeconds = 30);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  HttpResult request(const std::string& method, const std::string& url, const std::string& body = "",
                     const Headers& headers = {});
  HttpResult get(const std::string& url, const Headers& headers = {}) { return request("GET", url, "", headers); }
  HttpResult post(const std::string& url, const std::string& body, const std::string& contentType, Headers headers = {});

 private:
  std::unique_ptr<http::Client> client_;
};

// LINE's x-line-signature for `body`: base64(HMAC-SHA256(secret, body)),
// computed here with OpenSSL, not by seg's code.
std::string lineSignature(const std::string& secret, const std::string& body);

}  // namespace seg::testing
