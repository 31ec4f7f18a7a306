// SPDX-License-Identifier: MIT
#include "metrics_endpoint.hpp"

#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>

#include "answer_pool.hpp"
#include "mpstate/core/auth.hpp"
#include "mpstate/core/process_identity.hpp"
#include "mpstate/error.hpp"
#include "request_handler.hpp"
#include "tcp_listener.hpp"

namespace mpstate::manager {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

std::string http_response(int status, std::string_view reason, std::string_view content_type, std::string_view body,
                          bool with_body, std::string_view extra_headers = {}) {
  std::string out = "HTTP/1.1 " + std::to_string(status) + " " + std::string(reason) + "\r\n";
  out.append("Content-Type: ").append(content_type).append("\r\n");
  out.append("Content-Length: ").append(std::to_string(body.size())).append("\r\n");
  out.append(extra_headers).append("Connection: close\r\n\r\n");
  if (with_body) out.append(body);
  return out;
}

std::string plain(int status, std::string_view reason, std::string_view message, std::string_view extra = {}) {
  return http_response(status, reason, "text/plain; charset=utf-8", std::string(message) + "\n", true, extra);
}

std::string lowercase(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

struct http_request {
  std::string method, target, authorization, host;
};

std::string_view trimmed(std::string_view value) {
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
  return value;
}

// A Host header naming this machine's loopback (any port): what a scraper on the
// machine sends. Another name is a browser that was led here (DNS rebinding).
bool loopback_host(std::string_view host) {
  if (host.empty()) return true;  // HTTP/1.0 without one
  if (host.front() == '[') return host.substr(0, host.find(']') + 1) == "[::1]";
  const std::string name = lowercase(host.substr(0, host.find(':')));
  if (name == "localhost" || name == "localhost.") return true;
  boost::system::error_code ec;  // an address, not a name that starts like one (127.0.0.1.attacker.example)
  const auto address = asio::ip::make_address(name, ec);
  return !ec && address.is_loopback();
}

// The request line and the one header looked at; nullopt when it is not HTTP/1.x.
std::optional<http_request> parse_head(std::string_view head) {
  const auto line_end = head.find("\r\n");
  const std::string_view line = head.substr(0, line_end);
  const auto first = line.find(' '), second = line.rfind(' ');
  if (first == std::string_view::npos || second == first || line.substr(second + 1).rfind("HTTP/1.", 0) != 0)
    return std::nullopt;
  http_request r{std::string(line.substr(0, first)), std::string(line.substr(first + 1, second - first - 1)), {}};
  for (auto at = line_end; at != std::string_view::npos && at + 2 < head.size();) {
    const auto next = head.find("\r\n", at + 2);
    const std::string_view header = head.substr(at + 2, next - at - 2);
    const auto colon = header.find(':');
    at = next;
    if (colon == std::string_view::npos) continue;  // not a header: ignored
    const std::string name = lowercase(header.substr(0, colon));
    if (name == "authorization") r.authorization = std::string(trimmed(header.substr(colon + 1)));
    if (name == "host") r.host = std::string(trimmed(header.substr(colon + 1)));
  }
  return r;
}

}  // namespace

// One scrape: read the head, answer, close. Holds itself alive through its handlers.
struct metrics_endpoint::exchange : std::enable_shared_from_this<exchange> {
  exchange(tcp::socket s, metrics_endpoint& e) : socket(std::move(s)), deadline(socket.get_executor()), owner(e) {}
  tcp::socket socket;
  asio::steady_timer deadline;
  asio::streambuf head{max_metrics_request};
  metrics_endpoint& owner;
  std::shared_ptr<std::size_t> open = owner.open_;
  std::string answer;

  ~exchange() { --*open; }

  // Cuts the connection unless what comes next (its head, or our answer's write) is
  // done within metrics_deadline.
  void arm_deadline() {
    deadline.expires_after(metrics_deadline);
    deadline.async_wait([self = shared_from_this()](boost::system::error_code ec) {
      if (!ec) self->socket.close(ec);  // too slow: cut it
    });
  }

  void begin() {
    arm_deadline();
    asio::async_read_until(
        socket, head, "\r\n\r\n", [self = shared_from_this()](boost::system::error_code ec, std::size_t n) {
          if (ec == asio::error::not_found)
            return self->send(plain(431, "Request Header Fields Too Large", "the request's head is over 16 KiB"));
          if (ec) return;  // gone, or cut at the deadline
          try {
            self->on_head(std::string_view(asio::buffer_cast<const char*>(self->head.data()), n));
          } catch (const std::exception& e) {  // a peer's bytes never end the manager
            self->send(plain(400, "Bad Request", e.what()));
          }
        });
  }

  bool authorized(const http_request& request) const {
    if (owner.tokens_.empty()) return loopback_host(request.host);
    if (lowercase(request.authorization.substr(0, 7)) != "bearer ") return false;
    const std::string_view shown = trimmed(std::string_view(request.authorization).substr(7));
    return std::any_of(owner.tokens_.begin(), owner.tokens_.end(),
                       [&](const std::string& token) { return core::proofs_equal(shown, token); });
  }

  void on_head(std::string_view text) {
    deadline.cancel();  // the head came in time; the answer takes what the answer pool takes
    const auto request = parse_head(text);
    if (!request) return send(plain(400, "Bad Request", "not an HTTP/1.x request"));
    const bool head_only = request->method == "HEAD";
    if (request->method != "GET" && !head_only)
      return send(plain(405, "Method Not Allowed", "only GET /metrics", "Allow: GET, HEAD\r\n"));
    if (request->target.substr(0, request->target.find('?')) != "/metrics")
      return send(plain(404, "Not Found", "the metrics are at /metrics"));
    if (!authorized(*request)) {
      if (owner.tokens_.empty())
        return send(plain(403, "Forbidden", "this endpoint answers requests for loopback hosts"));
      return send(plain(401, "Unauthorized", "send the manager's read-only key as 'Authorization: Bearer KEY'",
                        "WWW-Authenticate: Bearer realm=\"mpstate\"\r\n"));
    }
    // The figures are taken here, on the event loop; the variables are sampled on the
    // answer pool, as a dump is.
    handler_outcome out =
        owner.handler_->handle(nlohmann::json{{"op", "metrics"}}, peer_context(core::self_identity()));
    owner.answers_->run(
        [out = std::move(out), head_only] {
          const nlohmann::json answer = answer_now(out);
          if (!answer.contains("result"))
            return plain(500, "Internal Server Error", answer.at("error").at("message").get<std::string>());
          return http_response(200, "OK", "text/plain; version=0.0.4; charset=utf-8",
                               answer.at("result").at("text").get_ref<const std::string&>(), !head_only);
        },
        [self = shared_from_this()](std::string response) { self->send(std::move(response)); });
  }

  void send(std::string response) {
    answer = std::move(response);
    arm_deadline();  // a scraper that does not read its answer is cut too
    asio::async_write(socket, asio::buffer(answer),
                      [self = shared_from_this()](boost::system::error_code, std::size_t) {
                        boost::system::error_code ignored;
                        self->socket.shutdown(tcp::socket::shutdown_both, ignored);
                        self->deadline.cancel();
                      });
  }
};

metrics_endpoint::metrics_endpoint(asio::io_context& io, const std::string& address, std::vector<std::string> tokens)
    : retry_(io), tokens_(std::move(tokens)) {
  std::erase_if(tokens_, [](const std::string& t) { return t.empty(); });
  acceptor_ = open_tcp_listener(io, address, "--metrics");
  const tcp::endpoint at = acceptor_->local_endpoint();
  address_ = to_string(at);
  if (tokens_.empty() && !at.address().is_loopback()) {
    throw error(errc::invalid_argument,
                "--metrics " + address +
                    " is not a loopback address: it needs a read-only key "
                    "(--read-only-key-file), which scrapers send as 'Authorization: Bearer KEY'");
  }
}

metrics_endpoint::~metrics_endpoint() = default;

void metrics_endpoint::start(request_handler& handler, answer_pool& answers) {
  handler_ = &handler;
  answers_ = &answers;
  accept();
}

void metrics_endpoint::accept() {
  acceptor_->async_accept([this](boost::system::error_code ec, tcp::socket socket) {
    if (ec == asio::error::operation_aborted) return;
    if (ec) {  // out of descriptors, say: try again shortly rather than spin
      retry_.expires_after(std::chrono::milliseconds(100));
      retry_.async_wait([this](boost::system::error_code waited) {
        if (!waited) accept();
      });
      return;
    }
    {
      if (*open_ >= max_metrics_connections) {
        socket.close(ec);  // a scraper retries; a flood holds no more than the cap
      } else {
        ++*open_;
        std::make_shared<exchange>(std::move(socket), *this)->begin();
      }
    }
    accept();
  });
}

}  // namespace mpstate::manager
