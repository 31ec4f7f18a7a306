// SPDX-License-Identifier: MIT
// The manager's --metrics HOST:PORT: GET /metrics over HTTP/1.1 answers the `metrics`
// op's text (Prometheus's text format, docs/metrics.md), made off the event loop on
// the answer pool like a dump. Off by default. With a read-only key, every scrape
// must carry it as `Authorization: Bearer KEY` (never the read-write key: a bearer
// token crosses the wire as it is); without one, only a loopback address is served,
// to requests for a loopback Host (a browser led here by DNS rebinding is refused).
// Each connection gets one answer and is closed; one that has not sent its head
// within metrics_deadline is cut, and at most max_metrics_connections are served at once.
#pragma once

#include <boost/asio.hpp>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

namespace mpstate::manager {

class request_handler;
class answer_pool;

constexpr std::size_t max_metrics_connections = 16;
constexpr std::chrono::seconds metrics_deadline{5};
constexpr std::size_t max_metrics_request = 16 * 1024;  // request line and headers

class metrics_endpoint {
 public:
  // Listens on `address`. `tokens`: the bearer tokens a scrape must show (the
  // read-only key), or none; throws error(invalid_argument) for a non-loopback
  // address without one.
  // It is opened before the segment is made (a bad address makes nothing).
  metrics_endpoint(boost::asio::io_context& io, const std::string& address, std::vector<std::string> tokens);
  ~metrics_endpoint();
  metrics_endpoint(const metrics_endpoint&) = delete;
  metrics_endpoint& operator=(const metrics_endpoint&) = delete;
  // Starts accepting (from the event loop's run), answering through these.
  void start(request_handler& handler, answer_pool& answers);
  // "HOST:PORT" it listens on (the port port 0 took).
  const std::string& address() const { return address_; }

 private:
  struct exchange;
  void accept();

  boost::asio::steady_timer retry_;
  std::unique_ptr<boost::asio::ip::tcp::acceptor> acceptor_;
  request_handler* handler_ = nullptr;
  answer_pool* answers_ = nullptr;
  std::vector<std::string> tokens_;  // empty: no key asked (loopback)
  std::string address_;
  std::shared_ptr<std::size_t> open_ = std::make_shared<std::size_t>(0);  // exchanges in flight
};

}  // namespace mpstate::manager
