#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <ostream>

#include "cli.hpp"
#include "commands/command.hpp"
#include "gradebook/gradebook.hpp"
#include "gradebook/html.hpp"

namespace ipcg {
namespace {

namespace fs = std::filesystem;

struct ReportArgs {
  std::string out_dir;
  std::string out_file;  // default <out_dir>/gradebook.html
};

// The links to reports/<submission>.txt are relative to wherever the page is written.
std::string reports_href(const fs::path& out_dir, const fs::path& page) {
  const fs::path from = fs::absolute(page).parent_path();
  const fs::path rel = fs::absolute(out_dir / "reports").lexically_relative(from.lexically_normal());
  return rel.empty() ? "reports/" : rel.generic_string() + "/";
}

Result<void> write_file(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!(out << text) || !out.flush()) return fail(Errc::io, "cannot write " + path.string());
  return {};
}

int report_command(const ReportArgs& args, std::ostream& out, std::ostream& err) {
  const fs::path dir = args.out_dir;
  auto written = write_gradebook_page(dir, args.out_file.empty() ? dir / "gradebook.html" : fs::path(args.out_file));
  if (!written) return exit_for(written.error(), err);
  out << *written;
  return kExitPassed;
}

}  // namespace

Result<std::string> write_gradebook_page(const fs::path& dir, const fs::path& page) {
  auto book = gradebook::read_results(dir / "results.jsonl");
  if (!book) return tl::unexpected(with_context(book.error(), "grader report"));
  IPCG_TRY(auto regrade, gradebook::read_regrade_note(dir / "regrade.json"));
  const gradebook::Summary summary = gradebook::summarize(*book);
  const std::string html = gradebook::gradebook_html(
      *book, summary, {.reports_href = reports_href(dir, page), .regrade = std::move(regrade)});
  IPCG_CHECK(write_file(page, html));
  return fmt::format("wrote {} ({} submissions, {} graded, {} not graded)\n", page.string(), summary.submissions,
                     summary.graded, book->errors.size());
}

Command add_report_command(CLI::App& app) {
  auto args = std::make_shared<ReportArgs>();
  auto* sub = app.add_subcommand("report", "Write the gradebook page (one static HTML file) from a batch's results.jsonl");
  sub->add_option("out-dir", args->out_dir, "the batch's output folder (holds results.jsonl and reports/)")->required();
  sub->add_option("--out", args->out_file, "where to write the page (default: <out-dir>/gradebook.html)");
  return {sub, [args](std::ostream& out, std::ostream& err) { return report_command(*args, out, err); }};
}

}  // namespace ipcg
