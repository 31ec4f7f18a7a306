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
  if (ec) return std::nullopt;
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

}  // namespace mpstate::detail
