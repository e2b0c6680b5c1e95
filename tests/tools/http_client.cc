#include "tests/tools/http_client.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "server/http/http_client.h"

namespace seg::testing {

HttpClient::HttpClient(double timeoutSeconds) : client_(std::make_unique<http::Client>(timeoutSeconds)) {}

HttpClient::~HttpClient() = default;

HttpResult HttpClient::request(const std::string& method, const std::string& url, const std::string& body,
                               const Headers& headers) {
  http::ClientResponse r = client_->request(method, url, body, headers);
  return HttpResult{r.status, std::move(r.body), std::move(r.error), r.seconds, std::move(r.headers)};
}

HttpResult HttpClient::post(const std::string& url, const std::string& body, const std::string& contentType, Headers headers) {
  headers.emplace_back("Content-Type", contentType);
  return request("POST", url, body, headers);
}

std::string lineSignature(const std::string& secret, const std::string& body) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()), reinterpret_cast<const unsigned char*>(body.data()),
       body.size(), digest, &length);
  std::string out(4 * ((length + 2) / 3) + 1, '\0');
  out.resize(static_cast<std::size_t>(EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), digest, static_cast<int>(length))));
  return out;
}

}  // namespace seg::testing
