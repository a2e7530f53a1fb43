// gradebook.csv from results.jsonl rows (RFC 4180): submission, score, max_score, one column per
// test (in lab order) with that test's score, then a status summary.
//
//   std::string csv = gradebook_csv(log.rows());   // rows already sorted by submission
//
// Pure function of the rows, so a merge of shards and an unsharded run write the same bytes.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "batch/results_log.hpp"

namespace ipcg {

// A field quoted when it holds a comma, quote, CR or LF (quotes doubled).
std::string csv_field(std::string_view text);

// A number of a results.jsonl row as gradebook.csv writes it ("95", "12.5"; "" when absent):
// `grader export` writes the same text, so exported scores equal gradebook.csv's.
std::string gradebook_number(const nlohmann::ordered_json& doc, const char* key);

// "16 passed" / "14 passed, 2 failed" / "build_failed" / "error: <message>".
std::string status_summary(const ResultRow& row);

std::string gradebook_csv(const std::vector<ResultRow>& rows);

}  // namespace ipcg
