// SPDX-License-Identifier: MIT
#include "cli_commands.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>

#include "mpstate/client.hpp"
#include "mpstate/core/dump.hpp"

namespace mpstate::cli {
namespace {

using json = nlohmann::json;

struct session {
  const options& o;
  Client client;
  std::ostream& out;

  json ask(json request) { return client.request(std::move(request)); }
  // A value for a human: strings as their text, the rest as compact JSON.
  void print_value(const json& v) {
    if (!o.json && v.is_string())
      out << v.get<std::string>() << "\n";
    else
      out << v.dump() << "\n";
  }
  void print(const json& result, const json& human) {
    if (o.json)
      out << result.dump() << "\n";
    else
      print_value(human);
  }
};

// A command-line value: JSON when it parses as JSON, else the text itself.
json value_of(const std::string& text) {
  json parsed = json::parse(text, nullptr, /*allow_exceptions=*/false);
  return parsed.is_discarded() ? json(text) : parsed;
}

int watch(session& s, const std::string& name, bool once, double seconds) {
  json got = s.ask({{"op", "get"}, {"name", name}});
  std::uint64_t seen = got.at("version").get<std::uint64_t>();
  if (!once) s.print(got, got.at("value"));
  for (long printed = 0; s.o.count < 0 || printed < s.o.count; ++printed) {
    const auto timeout_ms = static_cast<std::int64_t>(seconds * 1000);
    json w = s.ask({{"op", "wait"}, {"name", name}, {"version", seen}, {"timeout_ms", timeout_ms}});
    if (!w.at("changed").get<bool>()) {
      if (once) return 4;
      --printed;
      continue;
    }
    got = s.ask({{"op", "get"}, {"name", name}});
    seen = got.at("version").get<std::uint64_t>();
    s.print(got, got.at("value"));
    if (once) return 0;
  }
  return 0;
}

int loop_command(session& s, const std::vector<std::string>& w) {
  need(w, 3, 3, "loop NAME status|stop");
  const std::string& name = w[1];
  if (w[2] == "status") {
    json state = s.ask({{"op", "loop_get"}, {"name", name}});
    if (s.o.json) {
      s.out << state.dump() << "\n";
    } else {
      s.out << state.at("state").get<std::string>() << " pid=" << state.at("pid")
            << " iterations=" << state.at("iterations") << " heartbeat=" << state.at("heartbeat_age_ms") << "ms ago";
      if (!state.at("reason").get<std::string>().empty())
        s.out << " reason=\"" << state.at("reason").get<std::string>() << "\"";
      s.out << "\n";
    }
    return 0;
  }
  if (w[2] != "stop") throw usage_error("usage: mpstate loop NAME status|stop");
  s.ask({{"op", "loop_request_stop"}, {"name", name}});
  json state = s.ask({{"op", "loop_get"}, {"name", name}});
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(s.o.timeout_s);
  while (state.at("state") != "stopped" && state.at("state") != "failed" && state.at("state") != "idle") {
    if (std::chrono::steady_clock::now() >= deadline) {
      s.print(state, state.at("state"));
      return 4;
    }
    json got = s.ask({{"op", "get"}, {"name", name}});
    s.ask({{"op", "wait"}, {"name", name}, {"version", got.at("version")}, {"timeout_ms", 200}});
    state = s.ask({{"op", "loop_get"}, {"name", name}});
  }
  s.print(state, state.at("state"));
  return state.at("state") == "failed" ? 1 : 0;
}

int raw(session& s, const std::vector<std::string>& w) {
  need(w, 2, 1u << 20, "raw JSON... | raw -");
  std::vector<std::string> lines(w.begin() + 1, w.end());
  if (lines.size() == 1 && lines[0] == "-") {
    lines.clear();
    for (std::string line; std::getline(std::cin, line);) {
      if (!line.empty()) lines.push_back(line);
    }
  }
  int code = 0;
  for (const std::string& line : lines) {
    json request = json::parse(line, nullptr, false);
    if (!request.is_object()) throw usage_error("not a JSON object: " + line);
    try {
      s.out << json{{"result", s.ask(request)}}.dump() << "\n";
    } catch (const error& e) {  // shown as the wire shows it; the other lines still go
      s.out << json{{"error", {{"code", std::string(to_string(e.code()))}, {"message", e.message()}}}}.dump() << "\n";
      code = 1;
    }
  }
  return code;
}

}  // namespace

int run_dashboard(const options& o, const std::vector<std::string>& w, const dashboard_options& d) {
  constexpr const char* usage = "dashboard NAME [--host HOST] [--port PORT] [--read-only]";
  need(w, 1, 2, usage);
  const std::string name = w.size() == 2 ? w[1] : o.manager;
  if (name.empty()) need(w, 2, 2, usage);  // no NAME, nor -n NAME
  if (d.port < 0 || d.port > 65535) throw usage_error("--port must be 0 to 65535");
  if (!o.socket_path.empty()) throw usage_error("dashboard takes the manager's NAME (or tcp:// address), not --socket");
  const char* env = std::getenv("MPSTATE_PYTHON");
  const std::string python = env && *env ? env : "/usr/bin/python3";
  std::vector<std::string> args = {python,
                                   "-c",
                                   "from mpstate._dashboard import main; main()",
                                   name,
                                   "--host",
                                   d.host,
                                   "--port",
                                   std::to_string(d.port)};
  if (d.read_only) args.emplace_back("--read-only");
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  ::execvp(argv[0], argv.data());
  std::cerr << "mpstate: cannot run " << python << ": " << std::strerror(errno)
            << " (set $MPSTATE_PYTHON to an interpreter that has the mpstate package)\n";
  return 127;
}

int run(const options& o, const std::vector<std::string>& w, std::ostream& out) {
  session s{o,
            Client(ClientOptions{
                .manager_name = o.manager, .socket_path = o.socket_path, .transport = Transport::socket, .key = o.key}),
            out};
  const std::string& cmd = w[0];
  if (cmd == "get") {
    need(w, 2, 2, "get NAME");
    json got = s.ask({{"op", "get"}, {"name", w[1]}});
    s.print(got, got.at("value"));
  } else if (cmd == "set") {
    need(w, 3, 3, "set NAME VALUE");
    s.print(s.ask({{"op", "set"}, {"name", w[1]}, {"value", value_of(w[2])}}), "OK");
  } else if (cmd == "add") {
    need(w, 3, 3, "add NAME DELTA");
    json delta = value_of(w[2]);
    if (!delta.is_number()) throw usage_error("DELTA must be a number, not '" + w[2] + "'");
    json r = s.ask({{"op", "add"}, {"name", w[1]}, {"delta", delta}});
    s.print(r, r.at("value"));
  } else if (cmd == "del") {
    need(w, 2, 2, "del NAME");
    s.print(s.ask({{"op", "delete"}, {"name", w[1]}}), "OK");
  } else if (cmd == "list" || cmd == "keys") {
    need(w, 1, 2, "list [PREFIX]");
    json r = s.ask({{"op", "list"}, {"prefix", w.size() > 1 ? w[1] : ""}});
    if (o.json)
      out << r.dump() << "\n";
    else
      for (const auto& n : r.at("names")) out << n.get<std::string>() << "\n";
  } else if (cmd == "watch") {
    need(w, 2, 2, "watch NAME");
    return watch(s, w[1], false, 3600);
  } else if (cmd == "wait") {
    need(w, 2, 3, "wait NAME [SECONDS]");
    double seconds = 30;
    if (w.size() == 3) {
      try {
        seconds = std::stod(w[2]);
      } catch (const std::exception&) {
        throw usage_error("SECONDS must be a number, not '" + w[2] + "'");
      }
    }
    return watch(s, w[1], true, seconds);
  } else if (cmd == "loop") {
    return loop_command(s, w);
  } else if (cmd == "stat") {
    need(w, 1, 1, "stat");
    json r = s.ask({{"op", "stat"}});
    if (o.json)
      out << r.dump() << "\n";
    else
      for (const auto& [k, v] : r.items())
        out << k << ": " << (v.is_string() ? v.get<std::string>() : v.dump()) << "\n";
  } else if (cmd == "dump") {
    need(w, 1, 2, "dump [PREFIX]");
    json r = s.ask({{"op", "dump"}, {"prefix", w.size() > 1 ? w[1] : ""}});
    if (o.json)
      out << r.dump() << "\n";
    else
      core::write_dump_table(out, r);
  } else if (cmd == "shutdown") {
    need(w, 1, 1, "shutdown");
    s.print(s.ask({{"op", "shutdown"}}), "OK");
  } else if (cmd == "raw") {
    return raw(s, w);
  } else {
    throw usage_error("unknown command '" + cmd + "'; see mpstate --help");
  }
  return 0;
}

void need(const std::vector<std::string>& w, std::size_t least, std::size_t most, const char* usage) {
  if (w.size() < least || w.size() > most) throw usage_error(std::string("usage: mpstate ") + usage);
}

}  // namespace mpstate::cli
