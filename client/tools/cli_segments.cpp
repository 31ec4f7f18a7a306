// SPDX-License-Identifier: MIT
// `mpstate segments [clean] [PREFIX]`: this user's segments in /dev/shm (of the
// managers whose names start with PREFIX), and whether a
// manager serves each. A manager killed and never started again leaves its segment
// (so that a restart adopts it: docs/design.md); `clean` removes those nobody
// serves. A segment counts as served while its manager's instance lock is held or
// its clock (which the manager ticks every 10 ms) moved in the last 2 s; `clean`
// holds the instance lock while it unlinks, so a manager starting meanwhile either
// adopts the segment first or finds it gone.
#include <boost/interprocess/mapped_region.hpp>
#include <filesystem>
#include <iomanip>
#include <sstream>

#include "cli_commands.hpp"
#include "mpstate/core/instance_lock.hpp"
#include "mpstate/core/layout.hpp"
#include "mpstate/core/names.hpp"
#include "mpstate/core/process_identity.hpp"
#include "mpstate/core/segment.hpp"
#include "mpstate/error.hpp"

namespace mpstate::cli {
namespace {

constexpr std::int64_t fresh_tick_ns = 2'000'000'000;

struct found_segment {
  std::string manager;
  std::uint64_t bytes = 0;
  std::uint32_t layout = 0;  // 0: not an mpstate header
  std::uint32_t variables = 0;
  std::int64_t created_ns = 0;
  std::int64_t tick_ns = 0;
  bool ended = false;
  std::unique_ptr<core::instance_lock> lock;  // held by us: nobody serves it
  bool served(std::int64_t now) const {
    return !lock || (layout == core::layout_version && !ended && now - tick_ns < fresh_tick_ns);
  }
};

// The header's facts (through core::map_shared_memory, which checks the segment is
// this user's; a segment being made, or another user's, shows as not mpstate's).
void read_header(const std::string& shm_name, found_segment& s) {
  std::unique_ptr<boost::interprocess::mapped_region> region;
  try {
    region = core::map_shared_memory(shm_name, /*create=*/false, s.bytes);
  } catch (const error&) {
    return;
  }
  const auto* h = static_cast<const core::segment_header*>(region->get_address());
  if (h->magic != core::segment_magic) return;
  s.layout = h->layout_version;
  if (s.layout != core::layout_version || h->header_size != sizeof(core::segment_header)) return;
  s.variables = h->directory_used;
  s.created_ns = h->created_ns;
  s.tick_ns = h->clock_ns.load();
  s.ended = h->ended.load() != 0;
}

// Takes the manager's instance lock when nobody holds it (kept in s.lock).
void try_instance_lock(found_segment& s) {
  try {
    s.lock = std::make_unique<core::instance_lock>(core::lock_file_path(s.manager));
  } catch (const error&) {  // held (manager_running), or it cannot tell: taken as served
  }
}

std::vector<found_segment> scan(const std::string& manager_prefix) {
  const std::string prefix = core::segment_name("");
  std::vector<found_segment> found;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/dev/shm", ec)) {
    const std::string file = entry.path().filename().string();
    if (file.rfind(prefix + manager_prefix, 0) != 0 || file.size() == prefix.size()) continue;
    found_segment s;
    s.manager = file.substr(prefix.size());
    read_header(file, s);
    try_instance_lock(s);
    found.push_back(std::move(s));
  }
  std::sort(found.begin(), found.end(), [](const auto& a, const auto& b) { return a.manager < b.manager; });
  return found;
}

std::string age_text(std::int64_t ns) {
  const std::int64_t s = ns / 1'000'000'000;
  if (s < 120) return std::to_string(s) + " s";
  if (s < 7200) return std::to_string(s / 60) + " min";
  if (s < 172800) return std::to_string(s / 3600) + " h";
  return std::to_string(s / 86400) + " d";
}

}  // namespace

int run_segments(const options& o, const std::vector<std::string>& w, std::ostream& out) {
  need(w, 1, 3, "segments [clean] [PREFIX]");
  const bool clean = w.size() > 1 && w[1] == "clean";
  if (w.size() == 3 && !clean) throw usage_error("usage: mpstate segments [clean] [PREFIX]");
  const std::string manager_prefix = w.size() > (clean ? 2u : 1u) ? w.back() : "";
  const std::int64_t now = core::now_ns();
  std::vector<found_segment> found = scan(manager_prefix);
  if (!o.json && !clean) {
    out << std::left << std::setw(28) << "manager" << std::setw(10) << "state" << std::right << std::setw(12) << "bytes"
        << std::setw(11) << "variables" << std::setw(12) << "last tick"
        << "\n";
  }
  for (auto& s : found) {
    const bool served = s.served(now);
    const std::string state = served ? "served" : "orphaned";
    const bool known = s.layout == core::layout_version;
    bool removed = false;
    if (clean && !served) removed = core::remove_shared_memory(core::segment_name(s.manager));
    s.lock.reset();  // the lock goes once the segment has
    if (o.json) {
      nlohmann::json line = {{"manager", s.manager}, {"state", state}, {"bytes", s.bytes}, {"layout", s.layout}};
      if (known) {
        line["variables"] = s.variables;
        line["created_ns"] = s.created_ns;
        line["tick_age_ns"] = now - s.tick_ns;
      }
      if (clean) line["removed"] = removed;
      out << line.dump() << "\n";
    } else if (clean) {
      if (removed) out << "removed " << s.manager << " (" << s.bytes << " bytes)\n";
    } else {
      out << std::left << std::setw(28) << s.manager << std::setw(10) << state << std::right << std::setw(12) << s.bytes
          << std::setw(11) << (known ? std::to_string(s.variables) : "?") << std::setw(12)
          << (known      ? age_text(now - s.tick_ns)
              : s.layout ? "layout " + std::to_string(s.layout)
                         : "not mpstate")
          << "\n";
    }
  }
  return 0;
}

}  // namespace mpstate::cli
