// Logging: spdlog with one process-wide logger. Log lines about a message
// carry its queue id so one grep follows a message through the server.
// Thread-safe.
#pragma once

#include <spdlog/spdlog.h>

#include <exception>
#include <string>
#include <string_view>

#include "base/status.h"

namespace postern {

// Sets the global level ("debug", "info", "warn", "error") and the sink: a
// file when `file` is non-empty, else stderr. Returns an error for a bad level
// or an unwritable file.
Status InitLogging(const std::string& level, const std::string& file);

// For the completion handler of a detached coroutine (co_spawn): logs the
// exception that ended it, if any, as "`what`: message". Returns true when
// there was one.
bool LogException(std::exception_ptr e, std::string_view what);

}  // namespace postern

#define LOG_DEBUG(...) SPDLOG_DEBUG(__VA_ARGS__)
#define LOG_INFO(...) SPDLOG_INFO(__VA_ARGS__)
#define LOG_WARN(...) SPDLOG_WARN(__VA_ARGS__)
#define LOG_ERROR(...) SPDLOG_ERROR(__VA_ARGS__)
