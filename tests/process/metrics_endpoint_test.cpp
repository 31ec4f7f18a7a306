// SPDX-License-Identifier: MIT
// mpstate-manager --metrics: HTTP over a real socket (in the ASan suite too), what
// it serves and what it refuses; the manager serves its clients on.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <string>

#include "process_fixture.hpp"

using namespace mpstate;
using namespace mpstate::test;
using nlohmann::json;

namespace {

// Sends `request` to 127.0.0.1:port and reads the answer until the server closes.
std::string scrape(int port, const std::string& request) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  BOOST_REQUIRE(fd >= 0);
  sockaddr_in at{};
  at.sin_family = AF_INET;
  at.sin_port = htons(static_cast<std::uint16_t>(port));
  at.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  BOOST_REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&at), sizeof at) == 0);
  BOOST_REQUIRE(::write(fd, request.data(), request.size()) == static_cast<ssize_t>(request.size()));
  std::string answer;
  char buffer[65536];
  for (ssize_t n; (n = ::read(fd, buffer, sizeof buffer)) > 0;) answer.append(buffer, static_cast<std::size_t>(n));
  ::close(fd);
  return answer;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(metrics_endpoint)

BOOST_AUTO_TEST_CASE(it_serves_the_text_and_refuses_what_is_not_a_scrape) {
  ManagerOptions o;
  o.name = unique_name("metrics");
  o.executable = MPSTATE_MANAGER_PATH;
  o.extra_args = {"--metrics", "127.0.0.1:0"};
  Manager manager = Manager::start(o);
  Client client(ClientOptions{.manager_name = o.name});
  auto v = client.create<std::int64_t>("n", 41);
  const std::string address = client.request({{"op", "stat"}}).at("metrics").get<std::string>();
  const int port = std::stoi(address.substr(address.rfind(':') + 1));

  const std::string got = scrape(port, "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
  BOOST_TEST(got.rfind("HTTP/1.1 200 OK\r\n", 0) == 0);
  BOOST_TEST(got.find("Content-Type: text/plain; version=0.0.4") != std::string::npos);
  BOOST_TEST(got.find("\nmpstate_variables{type=\"int64\"} 1\n") != std::string::npos);
  const std::string head = scrape(port, "HEAD /metrics?x=1 HTTP/1.0\r\n\r\n");
  BOOST_TEST(head.rfind("HTTP/1.1 200 OK\r\n", 0) == 0);
  BOOST_TEST(head.find("mpstate_info") == std::string::npos);  // a HEAD: no body

  BOOST_TEST(scrape(port, "GET / HTTP/1.1\r\n\r\n").rfind("HTTP/1.1 404 ", 0) == 0);
  // Open (no read-only key): for loopback hosts only, not a browser led here by DNS rebinding.
  BOOST_TEST(scrape(port, "GET /metrics HTTP/1.1\r\nhost: evil.example:80\r\n\r\n").rfind("HTTP/1.1 403 ", 0) == 0);
  BOOST_TEST(scrape(port, "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1.evil.example\r\n\r\n").rfind("HTTP/1.1 403 ", 0) ==
             0);
  BOOST_TEST(scrape(port, "GET /metrics HTTP/1.1\r\nHost: [::1]:9\r\n\r\n").rfind("HTTP/1.1 200 ", 0) == 0);
  // Header lines without a colon (a name alone) are no headers: ignored, not a crash.
  BOOST_TEST(scrape(port, "GET /metrics HTTP/1.1\r\nHost\r\nAuthorization\r\n\r\n").rfind("HTTP/1.1 200 ", 0) == 0);
  BOOST_TEST(scrape(port, "DELETE /metrics HTTP/1.1\r\n\r\n").rfind("HTTP/1.1 405 ", 0) == 0);
  BOOST_TEST(scrape(port, "\x01\x02 garbage\r\n\r\n").rfind("HTTP/1.1 400 ", 0) == 0);
  BOOST_TEST(scrape(port, "GET /metrics HTTP/1.1\r\nX: " + std::string(20000, 'y')).rfind("HTTP/1.1 431 ", 0) == 0);
  BOOST_TEST(scrape(port, "GET /metrics HTTP/1.1\r\n\r\n").rfind("HTTP/1.1 200 ", 0) == 0);  // and on
  v.add(1);
  BOOST_TEST(client.request({{"op", "get"}, {"name", "n"}}).at("value") == 42);
}

BOOST_AUTO_TEST_SUITE_END()
