// SPDX-License-Identifier: MIT
#include "snapshot.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "log.hpp"
#include "mpstate/core/array_ops.hpp"
#include "mpstate/core/dump.hpp"
#include "mpstate/core/loop_ops.hpp"
#include "mpstate/core/names.hpp"
#include "mpstate/core/process_identity.hpp"
#include "mpstate/core/record_init.hpp"
#include "mpstate/core/value_codec.hpp"
#include "mpstate/error.hpp"

namespace mpstate::manager {
namespace {

using core::json;
constexpr const char* format_name = "mpstate-snapshot";
constexpr int format_version = 1;

void write_all(int fd, const std::string& text, const std::string& path) {
  std::size_t done = 0;
  while (done < text.size()) {
    ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw_system_error("cannot write " + path, errno);
    done += static_cast<std::size_t>(n);
  }
}

[[noreturn]] void bad_snapshot(const std::string& path, const std::string& what) {
  throw error(errc::invalid_argument, "snapshot " + path + " " + what + "; not restoring (the file is left as it is)");
}

// Every entry well-formed before the first create: a bad file changes nothing.
std::string cannot_restore(const std::string& path, const std::string& name, std::string_view why) {
  std::string message = "snapshot ";
  message.append(path).append(": cannot restore '").append(name).append("': ").append(why);
  return message;
}

void check_snapshot(const json& snap, const std::string& path) {
  if (!snap.is_object() || snap.value("format", "") != format_name) bad_snapshot(path, "is not an mpstate snapshot");
  if (snap.value("format_version", 0) != format_version) {
    bad_snapshot(path, "has format version " + snap.value("format_version", json(nullptr)).dump() +
                           "; this manager reads " + std::to_string(format_version));
  }
  if (!snap.contains("variables") || !snap["variables"].is_array()) bad_snapshot(path, "has no variables array");
  for (const json& v : snap["variables"]) {
    try {
      core::validate_variable_name(v.at("name").get<std::string>());
      core::value_type_from_string(v.at("type").get<std::string>());
      v.at("capacity").get<std::uint64_t>();
      v.at("value");
    } catch (const std::exception& e) {
      bad_snapshot(path, "has a bad entry " + v.dump().substr(0, 120) + ": " + e.what());
    }
  }
}

}  // namespace

snapshot_stats write_snapshot(const core::segment& s, const std::string& path) {
  snapshot_stats stats;
  json dump = core::dump_json(s);
  json vars = json::array();
  for (json& v : dump["variables"]) {
    if (v.contains("error") || (v.contains("locked") && v["value"].is_null())) {
      log().warn("snapshot leaves out '{}': {}", v["name"].get<std::string>(),
                 v.contains("error") ? v["error"].get<std::string>() : v["locked"].get<std::string>());
      ++stats.skipped;
      continue;
    }
    vars.push_back({{"name", std::move(v["name"])},
                    {"type", std::move(v["type"])},
                    {"capacity", std::move(v["capacity"])},
                    {"value", std::move(v["value"])}});
  }
  stats.variables = vars.size();
  json snap = {{"format", format_name},
               {"format_version", format_version},
               {"written_ns", core::now_ns()},
               {"variables", std::move(vars)}};
  const std::string text = core::encode_json_text(snap) + "\n";
  const std::string temp = path + ".tmp." + std::to_string(::getpid());
  int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) throw_system_error("cannot create " + temp, errno);
  try {
    write_all(fd, text, temp);
    if (::fsync(fd) != 0) throw_system_error("fsync " + temp, errno);
  } catch (...) {
    ::close(fd);
    ::unlink(temp.c_str());
    throw;
  }
  ::close(fd);
  if (::rename(temp.c_str(), path.c_str()) != 0) {
    int err = errno;
    ::unlink(temp.c_str());
    throw_system_error("cannot rename " + temp + " to " + path, err);
  }
  // The rename itself must reach the disk too.
  if (int dir = ::open(core::parent_directory(path).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); dir >= 0) {
    ::fsync(dir);
    ::close(dir);
  }
  return stats;
}

std::optional<snapshot_stats> restore_snapshot(core::owned_segment& s, const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    if (errno == ENOENT) return std::nullopt;
    throw_system_error("cannot read snapshot " + path, errno);
  }
  std::stringstream text;
  text << in.rdbuf();
  json snap = json::parse(text.str(), nullptr, /*allow_exceptions=*/false);
  if (snap.is_discarded()) bad_snapshot(path, "is not valid JSON");
  check_snapshot(snap, path);
  snapshot_stats stats;
  for (const json& v : snap["variables"]) {
    const std::string name = v["name"].get<std::string>();
    const core::value_type type = core::value_type_from_string(v["type"].get<std::string>());
    try {
      const std::uint64_t capacity = core::record_capacity(name, type, v["value"], v["capacity"].get<std::uint64_t>(),
                                                           core::record_origin::snapshot);
      s.create_variable(name, type, capacity, [&](core::variable_record& r) {
        core::initialise_record(r, v["value"], true, core::record_origin::snapshot);
      });
    } catch (const error& e) {
      if (e.code() == errc::segment_full) throw;
      throw error(errc::invalid_argument, cannot_restore(path, name, e.message()));
    } catch (const std::exception& e) {
      throw error(errc::invalid_argument, cannot_restore(path, name, e.what()));
    }
    ++stats.variables;
  }
  return stats;
}

}  // namespace mpstate::manager
