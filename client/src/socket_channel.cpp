// SPDX-License-Identifier: MIT
#include "socket_channel.hpp"

#include <unistd.h>

#include "mpstate/core/protocol.hpp"
#include "mpstate/error.hpp"

namespace mpstate::detail {

namespace asio = boost::asio;

socket_channel::socket_channel(const std::string& path) : owner_pid_(getpid()), path_(path) {
  boost::system::error_code ec;
  socket_.connect(asio::local::stream_protocol::endpoint(path), ec);
  if (ec) {
    throw error(errc::manager_unavailable, "no manager at " + path + ": " + ec.message());
  }
}

std::optional<nlohmann::json> socket_channel::round_trip(nlohmann::json request) {
  const std::uint64_t id = next_id_++;
  request["id"] = id;
  std::string line = core::to_line(request);
  boost::system::error_code ec;
  asio::write(socket_, asio::buffer(line), ec);
  if (ec) {
    throw_refusal_if_any();  // a manager that refuses a client answers, then closes
    return std::nullopt;
  }
  asio::read_until(socket_, input_, '\n', ec);
  if (ec) {
    throw error(errc::manager_unavailable, "lost the manager at " + path_ + ": " + ec.message());
  }
  std::string text;
  std::istream in(&input_);
  std::getline(in, text);
  nlohmann::json response = nlohmann::json::parse(text, nullptr, false);
  if (!response.is_object()) throw error(errc::internal, "manager sent a malformed line");
  if (response.value("id", nlohmann::json()) != id && !response.contains("error")) {
    throw error(errc::internal, "manager answered id " + response.value("id", nlohmann::json()).dump() +
                                    ", expected " + std::to_string(id));
  }
  return response;
}

void socket_channel::throw_refusal_if_any() {
  boost::system::error_code ec;
  asio::read_until(socket_, input_, '\n', ec);  // the peer has closed: this ends at EOF
  if (ec && input_.size() == 0) return;
  std::string text;
  std::istream in(&input_);
  std::getline(in, text);
  nlohmann::json refusal = nlohmann::json::parse(text, nullptr, false);
  if (refusal.is_object() && refusal.contains("error") && refusal["error"].is_object()) {
    const auto& e = refusal["error"];
    throw error(errc_from_string(e.value("code", "")), e.value("message", ""));
  }
}

}  // namespace mpstate::detail
