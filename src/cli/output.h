// Output helpers for the CLI: aligned tables for people, JSON for scripts.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace postern::cli {

class Table {
 public:
  explicit Table(std::vector<std::string> header) : header_(std::move(header)) {}
  void Add(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
  // Prints the table, or `empty_message` when it has no rows.
  void Print(const std::string& empty_message) const;

 private:
  std::vector<std::string> header_;
  std::vector<std::vector<std::string>> rows_;
};

void PrintJson(const nlohmann::json& value);

// "3m ago", "2h ago", "5d ago".
std::string Age(int64_t unix_time);

}  // namespace postern::cli
