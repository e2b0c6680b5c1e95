#include "server/http/http_client.h"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <chrono>

namespace seg::http {
namespace {

std::size_t collectBody(char* data, std::size_t size, std::size_t count, void* out) {
  static_cast<std::string*>(out)->append(data, size * count);
  return size * count;
}

// "Name: value\r\n" lines; the status line and the blank line are skipped.
// A redirect or 100 Continue starts the list again.
std::size_t collectHeader(char* data, std::size_t size, std::size_t count, void* out) {
  auto& headers = *static_cast<HeaderList*>(out);
  std::string_view line(data, size * count);
  if (line.rfind("HTTP/", 0) == 0) {
    headers.clear();
    return size * count;
  }
  const std::size_t colon = line.find(':');
  if (colon == std::string_view::npos) return size * count;
  std::string name(line.substr(0, colon));
  std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  std::string_view value = line.substr(colon + 1);
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == '\r' || value.back() == '\n' || value.back() == ' ')) value.remove_suffix(1);
  headers.emplace_back(std::move(name), std::string(value));
  return size * count;
}

}  // namespace

std::string ClientResponse::header(std::string_view name) const {
  for (const auto& [n, v] : headers) {
    if (n.size() == name.size() && std::equal(n.begin(), n.end(), name.begin(), [](char a, char b) {
          return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
        })) {
      return v;
    }
  }
  return "";
}

Client::Client(double timeoutSeconds, double connectTimeoutSeconds)
    : curl_(curl_easy_init()), timeout_(timeoutSeconds), connectTimeout_(connectTimeoutSeconds) {}

Client::~Client() { curl_easy_cleanup(static_cast<CURL*>(curl_)); }

ClientResponse Client::request(const std::string& method, const std::string& url, const std::string& body,
                               const HeaderList& headers) {
  CURL* curl = static_cast<CURL*>(curl_);
  curl_easy_reset(curl);  // keeps the connection cache
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method.c_str());
  if (method == "GET") {
    curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
  } else if (method != "HEAD") {
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.data());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  }
  return perform(headers, timeout_);
}

ClientResponse Client::multipart(const std::string& method, const std::string& url, const std::vector<FormPart>& parts,
                                 const HeaderList& headers, double timeoutSeconds) {
  CURL* curl = static_cast<CURL*>(curl_);
  curl_easy_reset(curl);
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_mime* mime = curl_mime_init(curl);
  for (const FormPart& part : parts) {
    curl_mimepart* p = curl_mime_addpart(mime);
    curl_mime_name(p, part.name.c_str());
    curl_mime_data(p, part.value.data(), part.value.size());
    if (!part.filename.empty()) curl_mime_filename(p, part.filename.c_str());
    if (!part.contentType.empty()) curl_mime_type(p, part.contentType.c_str());
  }
  curl_easy_setopt(curl, CURLOPT_MIMEPOST, mime);
  curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method.c_str());
  ClientResponse response = perform(headers, timeoutSeconds > 0 ? timeoutSeconds : timeout_);
  curl_mime_free(mime);
  return response;
}

ClientResponse Client::perform(const HeaderList& headers, double timeoutSeconds) {
  CURL* curl = static_cast<CURL*>(curl_);
  ClientResponse response;
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(timeoutSeconds * 1000));
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(connectTimeout_ * 1000));
  curl_easy_setopt(curl, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_2TLS);  // HTTP/2 over TLS when offered
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collectBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &response.body);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, collectHeader);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &response.headers);
  curl_slist* list = curl_slist_append(nullptr, "Expect:");  // no 100-continue round trip
  for (const auto& [name, value] : headers) list = curl_slist_append(list, (name + ": " + value).c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, list);
  const auto start = std::chrono::steady_clock::now();
  const CURLcode code = curl_easy_perform(curl);
  response.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  curl_slist_free_all(list);
  if (code != CURLE_OK) {
    response.error = curl_easy_strerror(code);
    response.timedOut = code == CURLE_OPERATION_TIMEDOUT;
    response.headers.clear();
    return response;
  }
  long status = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  response.status = static_cast<int>(status);
  return response;
}

}  // namespace seg::http
