// SPDX-License-Identifier: MIT
#include "log.hpp"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>

#include <cstdlib>
#include <utility>

#include "mpstate/error.hpp"

namespace mpstate::manager {
namespace {

// %* : the line's syslog priority, which journald reads from a "<N>" prefix.
class syslog_priority final : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&, spdlog::memory_buf_t& dest) override {
    static constexpr char priority[] = {'7', '7', '6', '4', '3', '2', '6'};  // trace .. critical, off
    dest.push_back(priority[static_cast<int>(msg.level)]);
  }
  std::unique_ptr<custom_flag_formatter> clone() const override { return std::make_unique<syslog_priority>(); }
};

std::shared_ptr<spdlog::logger> make_logger() {
  auto logger = std::make_shared<spdlog::logger>("mpstate-manager", std::make_shared<spdlog::sinks::stderr_sink_mt>());
  auto formatter = std::make_unique<spdlog::pattern_formatter>();
  formatter->add_flag<syslog_priority>('*');
  if (std::getenv("JOURNAL_STREAM")) {
    formatter->set_pattern("<%*>%v");
  } else {
    formatter->set_pattern("%Y-%m-%dT%H:%M:%S.%e%z %l mpstate-manager[%P]: %v");
  }
  logger->set_formatter(std::move(formatter));
  logger->set_level(spdlog::level::info);
  logger->flush_on(spdlog::level::trace);  // stderr is unbuffered by nature; keep it so
  return logger;
}

}  // namespace

bool log_budget::allow(std::uint64_t& left_out) {
  const auto now = std::chrono::steady_clock::now();
  if (last_ != std::chrono::steady_clock::time_point{} && now - last_ < std::chrono::seconds(1)) {
    ++suppressed_;
    return false;
  }
  last_ = now;
  left_out = std::exchange(suppressed_, 0);
  return true;
}

void set_log_level(const std::string& level) {
  static const std::pair<const char*, spdlog::level::level_enum> levels[] = {{"debug", spdlog::level::debug},
                                                                             {"info", spdlog::level::info},
                                                                             {"warning", spdlog::level::warn},
                                                                             {"error", spdlog::level::err},
                                                                             {"off", spdlog::level::off}};
  for (const auto& [word, value] : levels) {
    if (level == word) return log().set_level(value);
  }
  throw error(errc::invalid_argument, "--log-level must be debug, info, warning, error or off, not '" + level + "'");
}

spdlog::logger& log() {
  static std::shared_ptr<spdlog::logger> logger = make_logger();
  return *logger;
}

}  // namespace mpstate::manager
