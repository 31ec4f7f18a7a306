// SPDX-License-Identifier: MIT
#include "redis_link.hpp"

#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <thread>

#include "mpstate/error.hpp"

namespace mpstate::detail {

namespace {

using namespace std::chrono;
constexpr auto connect_timeout = seconds(2);
constexpr auto io_timeout = seconds(10);
// How long a command that could not be sent is retried: a restart of one server, or
// a cluster electing a replica (cluster-node-timeout plus the election).
constexpr auto retry_window = seconds(3);
constexpr auto cluster_retry_window = seconds(15);

timeval to_timeval(milliseconds ms) {
  return {static_cast<time_t>(ms.count() / 1000), static_cast<suseconds_t>((ms.count() % 1000) * 1000)};
}

// The answer to a command that was sent could not be read: it may have been applied.
struct answer_lost {};

bool starts_with(const redisReply* r, std::string_view word) {
  return r && r->type == REDIS_REPLY_ERROR && std::string_view(r->str, r->len).starts_with(word);
}

// RESP, as redisFormatCommandArgv writes it; hiredis 0.14's formats each length
// with sprintf, which cost the client a quarter of its time for a script call.
void append_command(std::string& out, const redis_args& argv) {
  const auto append_length = [&out](char mark, std::size_t n) {
    char digits[24];
    out += mark;
    out.append(digits, std::to_chars(digits, digits + sizeof digits, n).ptr);
    out += "\r\n";
  };
  append_length('*', argv.size());
  for (const std::string_view word : argv) {
    append_length('$', word.size());
    out += word;
    out += "\r\n";
  }
}

// The node cannot serve it now (a failover, a restart): try again, or elsewhere. A
// master turned replica answers READONLY: the slot map is reloaded.
bool not_ready(const redisReply* r) {
  return starts_with(r, "CLUSTERDOWN") || starts_with(r, "TRYAGAIN") || starts_with(r, "LOADING") ||
         starts_with(r, "MASTERDOWN") || starts_with(r, "READONLY");
}

}  // namespace

std::string reply_text(const redisReply* r) {
  if (!r || (r->type != REDIS_REPLY_STRING && r->type != REDIS_REPLY_STATUS && r->type != REDIS_REPLY_ERROR)) return {};
  return std::string(r->str, r->len);
}

const redisReply* reply_element(const redisReply* r, std::size_t i) {
  if (!r || r->type != REDIS_REPLY_ARRAY || i >= r->elements) {
    throw error(errc::internal, "Redis backend: a script answered " +
                                    (r && r->type == REDIS_REPLY_ARRAY ? std::string("a short array") : reply_text(r)) +
                                    ", not an array of more than " + std::to_string(i) + " elements");
  }
  return r->element[i];
}

std::map<std::string, std::string> reply_map(const redisReply* flat) {
  std::map<std::string, std::string> out;
  for (std::size_t i = 0; i + 1 < flat->elements; i += 2)
    out[reply_text(flat->element[i])] = reply_text(flat->element[i + 1]);
  return out;
}

redis_link_pool::loan redis_link_pool::borrow() {
  {
    std::lock_guard lock(mutex_);
    if (!idle_.empty()) {
      pooled item = std::move(idle_.back());
      idle_.pop_back();
      return loan(*this, std::move(item));
    }
  }
  return loan(*this, pooled{std::make_unique<redis_link>(url_), 0});
}

void redis_link_pool::give_back(pooled item) {
  std::lock_guard lock(mutex_);
  if (idle_.size() < keep_) idle_.push_back(std::move(item));
}

unsigned hash_slot(std::string_view key) {
  if (const auto open = key.find('{'); open != std::string_view::npos) {
    const auto close = key.find('}', open + 1);
    if (close != std::string_view::npos && close > open + 1) key = key.substr(open + 1, close - open - 1);
  }
  std::uint16_t crc = 0;  // CRC16-CCITT (XMODEM), as the cluster specification gives it
  for (unsigned char byte : key) {
    crc ^= static_cast<std::uint16_t>(byte << 8);
    for (int bit = 0; bit < 8; ++bit)
      crc = (crc & 0x8000) ? static_cast<std::uint16_t>((crc << 1) ^ 0x1021) : static_cast<std::uint16_t>(crc << 1);
  }
  return crc % 16384u;
}

redis_link::redis_link(const redis_url& url, bool patient) : url_(url), patient_(patient) {
  if (url_.how == redis_url::kind::cluster) {
    load_slots();
  } else {
    context(url_.how == redis_url::kind::unix_socket
                ? url_.path
                : url_.nodes[0].first + ":" + std::to_string(url_.nodes[0].second));
  }
}

redis_link::~redis_link() {
  for (auto& [node, c] : contexts_) redisFree(c);
}

redisContext* redis_link::context(const std::string& node) {
  if (auto it = contexts_.find(node); it != contexts_.end()) {
    // A server that restarted closed this connection: find out before sending, so
    // the command goes on a new one (and is known not to have been sent). On TCP a
    // write after the server's FIN still succeeds, so look first; on a Unix socket
    // the write itself fails (send's EPIPE), which spares a system call per command.
    if (url_.how == redis_url::kind::unix_socket) return it->second;
    char byte;
    const ssize_t n = ::recv(it->second->fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n != 0 && !(n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) return it->second;
    drop(node);
  }
  redisContext* c = nullptr;
  if (url_.how == redis_url::kind::unix_socket) {
    c = redisConnectUnixWithTimeout(node.c_str(), to_timeval(connect_timeout));
  } else {
    const auto colon = node.rfind(':');
    c = redisConnectWithTimeout(node.substr(0, colon).c_str(), std::stoi(node.substr(colon + 1)),
                                to_timeval(connect_timeout));
  }
  if (!c || c->err) {
    std::string why = c ? c->errstr : "out of memory";
    if (c) redisFree(c);
    throw error(errc::manager_unavailable, "cannot connect to Redis at " + node + ": " + why);
  }
  ++connections_;
  redisSetTimeout(c, to_timeval(io_timeout));
  if (url_.how != redis_url::kind::unix_socket) redisEnableKeepAlive(c);  // (it fails on a Unix socket)
  contexts_[node] = c;
  auto setup = [&](const redis_args& argv, const char* what) {
    redis_reply r = send(c, argv, false);
    if (!r || r->type == REDIS_REPLY_ERROR) {
      const std::string text = r ? reply_text(r.get()) : "no answer";
      drop(node);
      throw error(starts_with(r.get(), "WRONGPASS") || starts_with(r.get(), "NOAUTH") ? errc::permission_denied
                                                                                      : errc::manager_unavailable,
                  std::string("Redis at ") + node + " refused " + what + ": " + text);
    }
  };
  try {
    if (!url_.password.empty()) setup({"AUTH", url_.password}, "the password");
    if (url_.db != 0) setup({"SELECT", std::to_string(url_.db)}, "the database number");
  } catch (const answer_lost&) {
    drop(node);
    throw error(errc::manager_unavailable, "Redis at " + node + " closed the connection");
  }
  return c;
}

void redis_link::drop(const std::string& node) {
  if (auto it = contexts_.find(node); it != contexts_.end()) {
    redisFree(it->second);
    contexts_.erase(it);
  }
}

std::chrono::seconds redis_link::resend_window() const {
  return !patient_ ? seconds(0) : url_.how == redis_url::kind::cluster ? cluster_retry_window : retry_window;
}

// Writes the command (after ASKING when redirected so), then reads the answer.
// nullptr: nothing could be written (safe to resend; the context is marked failed,
// so it is never used again). Throws answer_lost.
//
// hiredis would write(2) its own buffer, and a closed peer would raise SIGPIPE in
// the user's process: the command is formatted apart (hiredis's buffer stays empty)
// and sent without the signal. A command cut short is one the server never ran.
redis_reply redis_link::send(redisContext* c, const redis_args& argv, bool asking) {
  if (c->err) return nullptr;
  wire_.clear();
  if (asking) append_command(wire_, {"ASKING"});
  append_command(wire_, argv);
  if (!write_wire(c)) return nullptr;
  void* raw = nullptr;
  if (asking) {
    if (redisGetReply(c, &raw) != REDIS_OK) throw answer_lost{};
    freeReplyObject(raw);
  }
  if (redisGetReply(c, &raw) != REDIS_OK) throw answer_lost{};
  return redis_reply(static_cast<redisReply*>(raw));
}

bool redis_link::write_wire(redisContext* c) {
  bool written = true;
  for (std::size_t sent = 0; sent < wire_.size();) {
    const ssize_t n = ::send(c->fd, wire_.data() + sent, wire_.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      written = false;
      break;
    }
    sent += static_cast<std::size_t>(n);
  }
  if (wire_.capacity() > (std::size_t{1} << 20)) std::string().swap(wire_);  // a big create's: not kept
  if (!written) c->err = REDIS_ERR_IO;
  return written;
}

void redis_link::load_slots() {
  std::vector<std::string> seeds;
  for (const auto& [node, c] : contexts_) seeds.push_back(node);
  for (const auto& [host, port] : url_.nodes) seeds.push_back(host + ":" + std::to_string(port));
  std::string last_error = "no seed node";
  for (const auto& seed : seeds) {
    try {
      redis_reply r = send(context(seed), {"CLUSTER", "SLOTS"}, false);
      if (!r || r->type != REDIS_REPLY_ARRAY) {
        drop(seed);
        last_error = seed + ": " + (r ? reply_text(r.get()) : "no answer");
        continue;
      }
      std::vector<std::string> map(16384);
      for (std::size_t i = 0; i < r->elements; ++i) {
        const redisReply* range = r->element[i];
        if (range->elements < 3) continue;
        const redisReply* master = range->element[2];
        std::string host = master->element[0]->len ? reply_text(master->element[0]) : seed.substr(0, seed.rfind(':'));
        const std::string node = host + ":" + std::to_string(master->element[1]->integer);
        for (long long s = range->element[0]->integer; s <= range->element[1]->integer && s < 16384; ++s) {
          map[static_cast<std::size_t>(s)] = node;
        }
      }
      slots_ = std::move(map);
      return;
    } catch (const error& e) {
      last_error = e.what();
    } catch (const answer_lost&) {
      drop(seed);
      last_error = seed + " closed the connection";
    }
  }
  throw error(errc::manager_unavailable, "no node of the Redis cluster " + url_.text + " answers: " + last_error);
}

std::string redis_link::node_for(std::string_view key) {
  if (url_.how == redis_url::kind::unix_socket) return url_.path;
  if (url_.how == redis_url::kind::tcp) return url_.nodes[0].first + ":" + std::to_string(url_.nodes[0].second);
  const std::string& node = slots_.at(hash_slot(key));
  if (node.empty()) throw error(errc::manager_unavailable, "no node of the Redis cluster serves that key's slot");
  return node;
}

redis_reply redis_link::command(const redis_args& argv, std::string_view key, milliseconds wait) {
  const auto window = resend_window();
  const auto deadline = steady_clock::now() + window;
  bool asking = false;
  std::string node;
  for (int redirects = 0;;) {
    try {
      if (node.empty()) node = node_for(key);
      redisContext* c = context(node);
      if (wait.count() > 0) redisSetTimeout(c, to_timeval(wait + io_timeout));
      redis_reply r = send(c, argv, asking);
      if (wait.count() > 0 && contexts_.count(node)) redisSetTimeout(c, to_timeval(io_timeout));
      asking = false;
      if (r && (starts_with(r.get(), "MOVED ") || starts_with(r.get(), "ASK ")) && ++redirects < 16) {
        const std::string text = reply_text(r.get());  // "MOVED 3999 127.0.0.1:6381"
        const std::string target = text.substr(text.rfind(' ') + 1);
        if (text.starts_with("MOVED ") && !slots_.empty()) slots_.at(hash_slot(key)) = target;
        asking = text.starts_with("ASK ");
        node = target;
        continue;
      }
      if (r && !not_ready(r.get())) return r;
      if (!r) drop(node);  // not sent: the connection was gone
    } catch (const answer_lost&) {
      drop(node);
      throw error(errc::manager_unavailable,
                  "the connection to Redis at " + node + " broke after a request was sent; it may have been applied");
    } catch (const error& e) {
      if (e.code() != errc::manager_unavailable || steady_clock::now() >= deadline) throw;
    }
    if (steady_clock::now() >= deadline) {
      throw error(errc::manager_unavailable, "Redis at " + (node.empty() ? url_.text : node) +
                                                 " did not answer within " +
                                                 std::to_string(duration_cast<seconds>(window).count()) + " s");
    }
    std::this_thread::sleep_for(milliseconds(100));  // a backoff between attempts
    if (url_.how == redis_url::kind::cluster) {
      try {
        load_slots();
      } catch (const error&) {
      }
    }
    node.clear();
  }
}

const std::string& redis_link::sha_of(const std::string& source, std::string_view key) {
  auto sha = shas_.find(&source);
  if (sha == shas_.end()) {
    redis_reply loaded = command({"SCRIPT", "LOAD", source}, key);
    if (loaded->type != REDIS_REPLY_STRING) throw error(errc::internal, "SCRIPT LOAD: " + reply_text(loaded.get()));
    sha = shas_.emplace(&source, reply_text(loaded.get())).first;
  }
  return sha->second;
}

redis_reply checked_script_reply(redis_reply r) {
  if (r->type == REDIS_REPLY_ERROR) {
    std::string text = reply_text(r.get());
    if (text.starts_with("MPSTATE ")) {  // "MPSTATE code message script: SHA, on @user_script:N."
      text = text.substr(8);
      if (const auto tail = text.find(" script: "); tail != std::string::npos) text.resize(tail);
      const auto space = text.find(' ');
      throw error(errc_from_string(text.substr(0, space)), space == std::string::npos ? "" : text.substr(space + 1));
    }
    throw error(errc::internal, "Redis: " + text);
  }
  return r;
}

redis_reply redis_link::script(const std::string& source, const std::vector<std::string>& keys,
                               const std::vector<std::string>& args) {
  return checked_script_reply(script_unchecked(source, keys, args));
}

redis_reply redis_link::script_unchecked(const std::string& source, const std::vector<std::string>& keys,
                                         const std::vector<std::string>& args) {
  const std::string key_count = std::to_string(keys.size());
  redis_args argv = {"EVALSHA", sha_of(source, keys.at(0)), key_count};
  argv.insert(argv.end(), keys.begin(), keys.end());
  argv.insert(argv.end(), args.begin(), args.end());
  redis_reply r = command(argv, keys.at(0));
  if (starts_with(r.get(), "NOSCRIPT")) {  // a restarted, failed-over or ASK-target node: send it whole
    argv[0] = "EVAL";
    argv[1] = source;
    r = command(argv, keys.at(0));
  }
  return r;
}

std::vector<redis_reply> redis_link::scripts(const std::vector<script_call>& calls) {
  std::vector<redis_reply> replies(calls.size());
  std::vector<std::size_t> alone;  // a script that could not be loaded (its node away): tried alone below
  std::map<std::string, std::vector<std::size_t>> by_node;
  for (std::size_t i = 0; i < calls.size(); ++i) {
    try {
      sha_of(*calls[i].source, calls[i].keys.at(0));  // SCRIPT LOAD, once per script and link
    } catch (const error&) {
      alone.push_back(i);
      continue;
    }
    try {
      by_node[node_for(calls[i].keys.at(0))].push_back(i);
    } catch (const error&) {  // no node known for it now: left unrun
    }
  }
  for (const auto& [node, indexes] : by_node) {
    try {
      redisContext* c = context(node);
      wire_.clear();
      for (std::size_t i : indexes) {
        const script_call& call = calls[i];
        const std::string key_count = std::to_string(call.keys.size());
        redis_args argv = {"EVALSHA", shas_.at(call.source), key_count};
        argv.insert(argv.end(), call.keys.begin(), call.keys.end());
        argv.insert(argv.end(), call.args.begin(), call.args.end());
        append_command(wire_, argv);
      }
      bool broken = !write_wire(c);
      for (std::size_t i : indexes) {
        void* raw = nullptr;
        if (broken || redisGetReply(c, &raw) != REDIS_OK) {
          broken = true;
          break;
        }
        replies[i].reset(static_cast<redisReply*>(raw));
      }
      if (broken) drop(node);  // what it did not answer is left unrun (some may have been applied)
    } catch (const error&) {   // the node cannot be reached: its calls are left unrun, the others go on
    }
  }
  for (std::size_t i = 0; i < calls.size(); ++i) {
    const redisReply* r = replies[i].get();
    const bool answered =
        r && !starts_with(r, "NOSCRIPT") && !starts_with(r, "MOVED ") && !starts_with(r, "ASK ") && !not_ready(r);
    const bool in_batch = std::find(alone.begin(), alone.end(), i) == alone.end();
    if (answered || (in_batch && !r)) continue;  // done, or its node was away: not tried again now
    try {
      replies[i] = script_unchecked(*calls[i].source, calls[i].keys, calls[i].args);
    } catch (const error&) {
      replies[i].reset();
    }
  }
  return replies;
}

std::vector<std::string> redis_link::masters() {
  if (url_.how != redis_url::kind::cluster) return {node_for({})};
  std::vector<std::string> out;
  for (const auto& n : slots_) {
    if (!n.empty() && std::find(out.begin(), out.end(), n) == out.end()) out.push_back(n);
  }
  return out;
}

redis_reply redis_link::command_on(const std::string& node, const redis_args& argv) {
  try {
    redis_reply r = send(context(node), argv, false);
    if (!r) {
      drop(node);
      r = send(context(node), argv, false);
    }
    if (!r) {
      drop(node);
      throw error(errc::manager_unavailable, "cannot send to Redis at " + node);
    }
    return r;
  } catch (const answer_lost&) {
    drop(node);
    throw error(errc::manager_unavailable, "the connection to Redis at " + node + " broke");
  }
}

}  // namespace mpstate::detail
