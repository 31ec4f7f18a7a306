// SPDX-License-Identifier: MIT
// The one header a user includes: the client, its proxies and the embedded manager.
//
//   auto manager = mpstate::Manager::start();           // or run mpstate-manager --name NAME
//   mpstate::Client client = manager.connect();          // or mpstate::Client("NAME")
//   auto counter = client.value_or_create<std::int64_t>("jobs/done", 0);
//   counter.add(1);                                      // shared memory, no round trip
#pragma once

#include "mpstate/array.hpp"
#include "mpstate/client.hpp"
#include "mpstate/counter.hpp"
#include "mpstate/dict.hpp"
#include "mpstate/error.hpp"
#include "mpstate/fence.hpp"
#include "mpstate/loop_state.hpp"
#include "mpstate/manager.hpp"
#include "mpstate/queue.hpp"
#include "mpstate/sync.hpp"
#include "mpstate/value.hpp"
