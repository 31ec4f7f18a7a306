// SPDX-License-Identifier: MIT
// mpstate::Client: connects to a manager by name (or socket path) and maps its
// segment; or to "tcp://HOST:PORT" on another machine, with the manager's key, where
// every operation goes over the wire and what it holds is a lease of its connection. Proxies made from it (Value<T>,
// LoopState) keep the client's shared state alive, so they may outlive the Client object.
//
// After fork() a child may keep using the parent's client and proxies: the mapping
// is shared, and the socket is reopened in the child on its first socket request.
#pragma once

#include <chrono>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mpstate/array.hpp"
#include "mpstate/counter.hpp"
#include "mpstate/dict.hpp"
#include "mpstate/error.hpp"
#include "mpstate/loop_state.hpp"
#include "mpstate/queue.hpp"
#include "mpstate/sync.hpp"
#include "mpstate/value.hpp"

namespace mpstate {

enum class Transport {
  automatic,  // map the segment when possible, else use the socket
  local,      // map the segment or fail
  socket,     // every operation over the socket (as a client of another language would)
};

struct ClientOptions {
  std::string manager_name;                    // the manager's --name, or "tcp://HOST:PORT"
  std::string socket_path;                     // empty: <runtime dir>/<name>.sock
  Transport transport = Transport::automatic;  // tcp:// is always over the wire
  std::string key;                             // tcp://: the manager's key; empty: the key in
                                               // $MPSTATE_KEY, else the file $MPSTATE_KEY_FILE
};

class Client {
 public:
  // Connects and says hello. When no manager answers but its segment exists (the
  // manager crashed), maps the segment anyway: existing variables stay usable and
  // structural calls fail with manager_unavailable until a manager is back.
  // Throws error(manager_unavailable) when there is neither.
  explicit Client(const std::string& manager_name);
  explicit Client(const ClientOptions& options);

  // True when operations go to the mapped segment, not the socket.
  bool is_local() const;
  // True once the manager whose segment this client maps has ended and removed it:
  // every proxy made from this client then throws manager_unavailable; make a new
  // Client to use a manager started again under the name.
  bool manager_ended() const;

  // Binds to an existing variable of type T. Throws not_found, type_mismatch.
  template <class T>
  Value<T> value(std::string_view name) const {
    return Value<T>(core_, name);
  }
  // Creates the variable through the manager and binds to it. Throws already_exists,
  // invalid_name, segment_full, value_too_large, manager_unavailable.
  template <class T>
  Value<T> create(std::string_view name, const T& initial = T{}, std::uint64_t capacity = 0) const {
    create_value(name, value_traits<T>::type, value_traits<T>::encode(initial), capacity, /*if_absent=*/false);
    return Value<T>(core_, name);
  }
  // Binds to `name`, creating it with `initial` when absent.
  template <class T>
  Value<T> value_or_create(std::string_view name, const T& initial = T{}, std::uint64_t capacity = 0) const {
    create_value(name, value_traits<T>::type, value_traits<T>::encode(initial), capacity, /*if_absent=*/true);
    return Value<T>(core_, name);
  }
  // Binds to the loop-state variable `name`, creating it (idle) when absent.
  LoopState loop(std::string_view name) const;

  // A lock-free sharded counter (mpstate/counter.hpp), created when absent with total
  // `initial`; an existing one is bound as it is (type_mismatch for another type).
  Counter counter(std::string_view name, std::int64_t initial = 0) const;

  // Synchronisation variables (mpstate/sync.hpp), created when absent: free, with
  // `permits` permits, clear, or for `parties` parties. An existing one is bound as
  // it is (type_mismatch if it is of another type).
  Lock lock(std::string_view name) const;
  RLock rlock(std::string_view name) const;
  Semaphore semaphore(std::string_view name, std::int64_t permits = 1,
                      PermitRecovery recovery = PermitRecovery::none) const;
  BoundedSemaphore bounded_semaphore(std::string_view name, std::int64_t permits = 1,
                                     PermitRecovery recovery = PermitRecovery::none) const;
  Event event(std::string_view name) const;
  Condition condition(std::string_view name) const;
  Barrier barrier(std::string_view name, std::int64_t parties) const;

  // A queue of T (mpstate/queue.hpp), created when absent with room for `maxsize`
  // items (0: unbounded, as in Python: its ring grows through the manager) of
  // `item_size` encoded bytes each to start with (scalars take 8; a larger item grows
  // it). An existing queue is bound as it is (type_mismatch if it holds another type).
  template <class T>
  Queue<T> queue(std::string_view name, std::uint64_t maxsize = 0, std::uint64_t item_size = 256) const {
    ensure_queue(name, value_traits<T>::type, maxsize, item_size);
    return Queue<T>(core_, name);
  }
  template <class T>
  JoinableQueue<T> joinable_queue(std::string_view name, std::uint64_t maxsize = 0,
                                  std::uint64_t item_size = 256) const {
    ensure_queue(name, value_traits<T>::type, maxsize, item_size);
    return JoinableQueue<T>(core_, name);
  }

  // A dict of T under the prefix `name` (mpstate/dict.hpp): keys are the variables
  // "<name>/<key>". Nothing is created until a key is set.
  template <class T>
  Dict<T> dict(std::string_view name) const {
    return Dict<T>(core_, name);
  }
  // A fixed-size array of `size` T (int64, uint64, double, bool; zeros), created
  // when absent; an existing one is bound as it is (mpstate/array.hpp).
  template <class T>
  Array<T> array(std::string_view name, std::size_t size) const {
    ensure_sequence(name, core::value_type::array, value_traits<T>::type, size);
    return Array<T>(core_, name);
  }
  // A list of T, created empty when absent. (Not list(): that one lists names.)
  template <class T>
  List<T> list_of(std::string_view name) const {
    ensure_sequence(name, core::value_type::list, value_traits<T>::type, 0);
    return List<T>(core_, name);
  }
  // Values of any types under the prefix `name`, by attribute.
  Namespace ns(std::string_view name) const { return Namespace(core_, name); }

  // Deletes a variable (bound proxies then get not_found). Throws not_found.
  void remove(std::string_view name) const;
  // An unnamed variable's lifetime, as Python's Manager gives its objects: once
  // collectable, `name` and the variables under "<name>/" are removed when no process
  // holds a proxy bound to it (the manager's collect); not collectable (pinned), it
  // stays until removed, as every variable does by default. Only on a mapped segment,
  // where bindings are counted: false elsewhere (TCP, another user's manager, Redis),
  // and when there is no such variable.
  bool set_collectable(std::string_view name, bool collectable) const;
  // The type name of variable `name` ("int64", "string", "queue", ...; see
  // docs/protocol.md), or nullopt when there is none.
  std::optional<std::string> type_of(std::string_view name) const;
  // Variable names under `prefix`, sorted.
  std::vector<std::string> list(std::string_view prefix = {}) const;
  // Every variable under `prefix` as the dump tool shows it (see docs/protocol.md,
  // dump). Needs mpstate/json.hpp.
  nlohmann::json dump(std::string_view prefix = {}) const;
  // Sends one raw protocol request ({"op": ...}) and returns its "result".
  // Throws mpstate::error for an error response. Needs mpstate/json.hpp.
  nlohmann::json request(const nlohmann::json& request) const;

 private:
  void create_variable(std::string_view name, std::string_view type, const nlohmann::json& initial,
                       std::uint64_t capacity) const;
  void ensure_variable(std::string_view name, std::string_view type, const nlohmann::json& initial,
                       std::uint64_t capacity) const;
  // A value of `type` whose element bytes are `initial`; with if_absent, an existing
  // one is kept.
  void create_value(std::string_view name, core::value_type type, std::string_view initial, std::uint64_t capacity,
                    bool if_absent) const;
  void ensure_queue(std::string_view name, core::value_type element, std::uint64_t maxsize,
                    std::uint64_t item_size) const;
  // An array of `size` zeros or an empty list (`kind`) of `element`, when absent.
  void ensure_sequence(std::string_view name, core::value_type kind, core::value_type element,
                       std::uint64_t size) const;
  // A structured variable (loop, sync types): created when absent, then bound.
  template <class Proxy>
  Proxy ensure_bound(std::string_view name, std::string_view type, const nlohmann::json& initial) const {
    ensure_variable(name, type, initial, 0);
    return Proxy(core_, name);
  }
  std::shared_ptr<detail::client_core> core_;
};

}  // namespace mpstate
