// What `grader similarity` writes: the ranked table (pairs.csv, and a text table for the
// terminal) and a static HTML site: index.html ranks the flagged pairs, pair-<rank>.html shows
// one pair side by side with its shared runs in matching colours. Self-contained (inline CSS, no
// script, nothing fetched), and every name and line a student wrote is escaped.
//
//   IPCG_CHECK(write_similarity_site(report, "lab1", "similarity/"));
//   std::cout << similarity_table(report, "lab1", 25);
#pragma once

#include <filesystem>
#include <string>

#include "harness/core/error.hpp"
#include "similarity/similarity.hpp"

namespace ipcg::similarity {

constexpr int kMaxPairPages = 500;  // pages written for the first flagged pairs; pairs.csv has all

std::string pairs_csv(const SimilarityReport& report);
// A summary line and the first `max_rows` flagged pairs, names made safe for a terminal.
std::string similarity_table(const SimilarityReport& report, const std::string& lab, int max_rows);
std::string index_html(const SimilarityReport& report, const std::string& lab);
std::string pair_html(const SimilarityReport& report, const std::string& lab, std::size_t rank);

// pairs.csv, index.html and pair-<rank>.html, each written whole (temporary file and rename);
// pair pages of an earlier run in `out` are removed first.
Result<void> write_similarity_site(const SimilarityReport& report, const std::string& lab,
                                   const std::filesystem::path& out);

}  // namespace ipcg::similarity
