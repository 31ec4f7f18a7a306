#include "mpstate/detail/binding.hpp"

#include <unistd.h>

#include "mpstate/core/names.hpp"
#include "mpstate/core/record_ops.hpp"
#include "mpstate/error.hpp"

namespace mpstate::detail {

binding::binding(std::shared_ptr<client_core> core, std::string_view name, core::value_type type)
    : core_(std::move(core)), name_(name) {
  core::validate_variable_name(name_);
  if (core::segment* s = core_->segment()) {
    record_ = s->find(name_, /*bind=*/true);
    bound_by_ = getpid();
    if (!record_) throw error(errc::not_found, "no variable '" + name_ + "'");
    if (record_->type != type) {
      core::segment::unbind(record_);
      core::throw_type_mismatch(*record_, type);
    }
    return;
  }
  nlohmann::json got = remote({{"op", "get"}});
  if (got.at("type") != core::to_string(type)) {
    throw error(errc::type_mismatch, "variable '" + name_ + "' is " + got.at("type").get<std::string>() +
                                         ", not " + std::string(core::to_string(type)));
  }
}

binding::~binding() {
  if (record_ && bound_by_ == getpid()) core::segment::unbind(record_);
}

binding::binding(const binding& other)
    : core_(other.core_), name_(other.name_), record_(other.record_), bound_by_(getpid()) {
  if (record_) record_->bind_count.fetch_add(1, std::memory_order_relaxed);
}

binding::binding(binding&& other) noexcept
    : core_(std::move(other.core_)),
      name_(std::move(other.name_)),
      record_(other.record_),
      bound_by_(other.bound_by_) {
  other.record_ = nullptr;
}

nlohmann::json binding::remote(nlohmann::json request) const {
  request["name"] = name_;
  return core_->call(request);
}

void binding::follow() const {
  core::variable_record* next = core_->segment()->record_at(record_->moved_to.load(std::memory_order_acquire));
  next->bind_count.fetch_add(1, std::memory_order_relaxed);  // safe: the old record holds one on it
  if (bound_by_ == getpid()) core::segment::unbind(record_);
  record_ = next;
  bound_by_ = getpid();
}

void binding::grow(std::uint64_t capacity) const {
  remote({{"op", "grow"}, {"capacity", capacity}});
  if (record_->moved()) follow();
}

std::uint64_t binding::version() const {
  if (record_) {
    while (record_->moved()) follow();
    if (record_->deleted()) core::throw_deleted(*record_);
    return record_->version.load(std::memory_order_acquire);
  }
  return remote({{"op", "get"}}).at("version").get<std::uint64_t>();
}

std::uint64_t binding::wait_for_change(std::uint64_t seen, std::chrono::nanoseconds timeout) const {
  if (record_) {
    while (record_->moved()) follow();
    std::uint64_t v = core::wait_for_change(*record_, seen, timeout);
    while (record_->moved()) follow();  // moved while we slept: the version carried over
    return v;
  }
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(timeout).count();
  return remote({{"op", "wait"}, {"version", seen}, {"timeout_ms", ms}})
      .at("version")
      .get<std::uint64_t>();
}

}  // namespace mpstate::detail
