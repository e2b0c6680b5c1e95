// An HTTP client on libcurl (the only file that includes it is
// http_client.cc): one connection per client, kept alive and reused, TLS
// and HTTP/2 where the server offers them. Not thread-safe: one client per
// thread.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace seg::http {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

struct ClientResponse {
  int status = 0;       // 0: no response (refused, reset, timed out)
  bool timedOut = false;
  std::string error;    // libcurl's, when status is 0
  HeaderList headers;   // names in lower case
  std::string body;
  double seconds = 0;

  std::string header(std::string_view name) const;  // "" when absent
};

// A multipart/form-data part (an audience file upload).
struct FormPart {
  std::string name;
  std::string value;
  std::string filename;     // set for a file part
  std::string contentType;  // of a file part
};

class Client {
 public:
  explicit Client(double timeoutSeconds = 30, double connectTimeoutSeconds = 10);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  ClientResponse request(const std::string& method, const std::string& url, const std::string& body = "",
                         const HeaderList& headers = {});
  // `timeoutSeconds` (0: the client's) for a large upload.
  ClientResponse multipart(const std::string& method, const std::string& url, const std::vector<FormPart>& parts,
                           const HeaderList& headers = {}, double timeoutSeconds = 0);

 private:
  ClientResponse perform(const HeaderList& headers, double timeoutSeconds);
  void* curl_;
  double timeout_, connectTimeout_;
};

}  // namespace seg::http
