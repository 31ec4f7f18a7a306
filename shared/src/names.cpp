// SPDX-License-Identifier: MIT
#include "mpstate/core/names.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>

#include "mpstate/error.hpp"

namespace mpstate::core {
namespace {

bool is_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
}

void check_segment(std::string_view segment, std::string_view whole) {
  if (segment.empty()) {
    throw error(errc::invalid_name, "empty segment in name '" + std::string(whole) + "'");
  }
  if (segment == "." || segment == "..") {
    throw error(errc::invalid_name, "'.' and '..' are not allowed as a name segment");
  }
  for (char c : segment) {
    if (!is_name_char(c)) {
      throw error(errc::invalid_name, "names use [A-Za-z0-9_.-] segments joined by '/'; bad byte " +
                                          std::to_string(static_cast<unsigned char>(c)));
    }
  }
}

}  // namespace

void validate_variable_name(std::string_view name) {
  if (name.empty()) throw error(errc::invalid_name, "name is empty");
  if (name.size() > max_name_length) {
    throw error(errc::invalid_name, "name is " + std::to_string(name.size()) + " bytes; the limit is 255");
  }
  std::size_t start = 0;
  while (true) {
    auto slash = name.find('/', start);
    check_segment(name.substr(start, slash - start), name);
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
}

bool name_has_prefix(std::string_view name, std::string_view prefix) { return name.substr(0, prefix.size()) == prefix; }

void validate_manager_name(std::string_view name) {
  if (name.empty()) throw error(errc::invalid_name, "manager name is empty");
  if (name.size() > 64) throw error(errc::invalid_name, "manager name is over 64 bytes");
  if (name.find('/') != std::string_view::npos) {
    throw error(errc::invalid_name, "manager name must not contain '/'");
  }
  check_segment(name, name);
}

std::string runtime_directory() {
  if (const char* dir = std::getenv("MPSTATE_RUNTIME_DIR"); dir && *dir) return dir;
  if (const char* xdg = std::getenv("XDG_RUNTIME_DIR"); xdg && *xdg) {
    return std::string(xdg) + "/mpstate";
  }
  return "/tmp/mpstate-" + std::to_string(getuid());
}

void ensure_runtime_directory(const std::string& dir) {
  if (mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    throw_system_error("cannot create runtime directory " + dir, errno);
  }
  check_private_directory(dir);
}

void check_private_directory(const std::string& dir) {
  struct stat st {};
  if (lstat(dir.c_str(), &st) != 0) throw_system_error("cannot stat " + dir, errno);
  if (S_ISLNK(st.st_mode)) {
    throw error(errc::permission_denied, dir + " is a symbolic link; give the real directory");
  }
  if (!S_ISDIR(st.st_mode)) throw error(errc::permission_denied, dir + " is not a directory");
  if (st.st_uid != geteuid()) {
    throw error(errc::permission_denied, dir + " belongs to uid " + std::to_string(st.st_uid) + ", not to this user");
  }
  if (st.st_mode & (S_IWGRP | S_IWOTH)) {
    throw error(errc::permission_denied, dir + " is group- or world-writable (mode " + permission_text(st.st_mode) +
                                             "); use a private directory");
  }
}

std::string parent_directory(const std::string& path) {
  auto slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

std::string permission_text(unsigned mode) {
  char text[8];
  std::snprintf(text, sizeof text, "%03o", mode & 0777);
  return text;
}

std::string default_socket_path(std::string_view manager_name) {
  return runtime_directory() + "/" + std::string(manager_name) + ".sock";
}

std::string lock_file_path(std::string_view manager_name) {
  return runtime_directory() + "/" + std::string(manager_name) + ".lock";
}

std::string segment_name(std::string_view manager_name) {
  return "mpstate-" + std::to_string(getuid()) + "-" + std::string(manager_name);
}

}  // namespace mpstate::core
