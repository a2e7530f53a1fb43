// The catalogue itself. Adding a language: a Lang value, its code in kLangCodes, a column in
// kCatalogue; adding a string: a Msg id and its row. docs/i18n.md has the checklist.
//
// The Korean is what a Korean OS course says: 파이프, 통과/실패, 점수, 시드, 숨겨진 테스트. Korean
// particles change with the sound before them (로/으로), so no pattern puts one right after an
// argument.
#include "report/messages.hpp"

#include <array>
#include <utility>

namespace ipcg {
namespace {

struct CatalogueRow {
  Msg id;
  std::string_view name;
  std::size_t arity;
  std::string_view en;
  std::string_view ko;
};

constexpr std::size_t kMessageCount = static_cast<std::size_t>(Msg::count_);

// In Msg order; messages_in_order() below checks it at compile time.
constexpr std::array<CatalogueRow, kMessageCount> kCatalogue = {{
    {Msg::submission, "submission", 1, "submission: {}", "제출물: {}"},
    {Msg::isolation_full, "isolation_full", 0, "isolation: full", "격리: 완전"},
    {Msg::isolation_without_role_uids, "isolation_without_role_uids", 0,
     "isolation: user namespace without role uids", "격리: 역할별 uid 없는 사용자 네임스페이스"},
    {Msg::isolation_reduced, "isolation_reduced", 0, "isolation: reduced", "격리: 축소"},
    {Msg::seed_line, "seed_line", 1, "seed: {0}  (rerun with --seed {0})", "시드: {0}  (재실행: --seed {0})"},
    {Msg::build_ok, "build_ok", 1, "build: ok ({})", "빌드: 성공 ({})"},
    {Msg::build_failed, "build_failed", 1, "build: FAILED ({})", "빌드: 실패 ({})"},
    {Msg::test_count_one, "test_count_one", 2, "{} test, {} points", "테스트 {}개, 총 {}점"},
    {Msg::test_count_other, "test_count_other", 2, "{} tests, {} points", "테스트 {}개, 총 {}점"},
    // Hangul takes two terminal columns: each Korean tag is 12 columns, like the English ones.
    {Msg::tag_passed, "tag_passed", 0, "[  PASSED  ]", "[   통과   ]"},
    {Msg::tag_failed, "tag_failed", 0, "[  FAILED  ]", "[   실패   ]"},
    {Msg::tag_timeout, "tag_timeout", 0, "[ TIMEOUT  ]", "[ 시간초과 ]"},
    {Msg::tag_hung, "tag_hung", 0, "[   HUNG   ]", "[   멈춤   ]"},
    {Msg::tag_crashed, "tag_crashed", 0, "[ CRASHED  ]", "[비정상종료]"},
    {Msg::tag_killed_by_filter, "tag_killed_by_filter", 0, "[ KILLED   ]", "[ 호출차단 ]"},
    {Msg::tag_build_failed, "tag_build_failed", 0, "[ NO BUILD ]", "[ 빌드실패 ]"},
    {Msg::tag_skipped, "tag_skipped", 0, "[ SKIPPED  ]", "[  건너뜀  ]"},
    {Msg::tag_error, "tag_error", 0, "[  ERROR   ]", "[   오류   ]"},
    {Msg::test_points, "test_points", 2, "{}/{} pts", "{}/{}점"},
    {Msg::trace_hint, "trace_hint", 1, "trace: {} (open it in https://ui.perfetto.dev or chrome://tracing)",
     "트레이스: {} (https://ui.perfetto.dev 또는 chrome://tracing에서 열어 보세요)"},
    {Msg::leftovers, "leftovers", 1, "left behind after the test: {}", "테스트 후 정리되지 않고 남은 객체: {}"},
    {Msg::scheduling_dependent, "scheduling_dependent", 2,
     "{0} of {1} runs with this seed did not pass: this verdict depends on how the processes were scheduled, "
     "so --seed does not replay it",
     "같은 시드로 {1}번 실행해 {0}번 통과하지 못했습니다: 이 판정은 프로세스 스케줄링에 따라 달라지므로 "
     "--seed로 재현되지 않습니다"},
    {Msg::failed_differently, "failed_differently", 1,
     "all {0} runs with this seed failed, not all the same way: how it fails depends on how the processes were "
     "scheduled",
     "같은 시드로 {0}번 실행해 모두 통과하지 못했지만 실패한 모습이 달랐습니다: 어떻게 실패하는지는 프로세스 "
     "스케줄링에 따라 달라집니다"},
    {Msg::failure_came_back, "failure_came_back", 2,
     "the failure came back in {0} of {1} runs with this seed",
     "같은 시드로 {1}번 실행해 {0}번 같은 실패가 다시 나왔습니다"},
    {Msg::schedule_exact, "schedule_exact", 3,
     "schedule {0}; exact replay: --seed {1} --only {2} runs the processes in this order again",
     "스케줄 {0}; 정확한 재현: --seed {1} --only {2} 옵션으로 실행하면 프로세스가 같은 순서로 다시 실행됩니다"},
    {Msg::schedule_best_effort, "schedule_best_effort", 3,
     "schedule {0}; best-effort replay: --seed {1} --only {2} applies the same perturbations again, but the "
     "kernel may still order the processes differently",
     "스케줄 {0}; 최선 노력 재현: --seed {1} --only {2} 옵션으로 같은 교란이 다시 적용되지만, 커널이 "
     "프로세스 순서를 다르게 정할 수 있습니다"},
    {Msg::hint_line, "hint_line", 1, "to fix: {}", "고칠 점: {}"},
    // The cause is the harness's English words (hang_cause), like a check's message.
    {Msg::hang_group, "hang_group", 3, "{0} tests hung the same way (cause {1}): {2}",
     "테스트 {0}개가 같은 방식으로 멈췄습니다 (원인 {1}): {2}"},
    {Msg::hang_group_ref, "hang_group_ref", 2, "cause {0}, said above: the same for {1} tests",
     "원인 {0}: 위에 적은 원인으로, 테스트 {1}개에 공통입니다"},
    {Msg::output_heading, "output_heading", 0, "output:", "출력:"},
    {Msg::hidden_withheld, "hidden_withheld", 0, "(hidden test: details withheld)",
     "(숨겨진 테스트: 세부 내용은 공개하지 않습니다)"},
    {Msg::summary, "summary", 4, "{0}/{1} points, {2}/{3} tests passed", "{0}/{1}점, 테스트 {3}개 중 {2}개 통과"},
    {Msg::summary_skipped, "summary_skipped", 1, ", {} skipped", ", {}개 건너뜀"},
    {Msg::provenance_seed, "provenance_seed", 1, "seed {}", "시드 {}"},
    {Msg::provenance_spec, "provenance_spec", 1, "spec sha256:{}", "명세 sha256:{}"},
    {Msg::provenance_grader, "provenance_grader", 1, "grader {}", "채점기 {}"},
    {Msg::grader_error, "grader_error", 1, "grader error: {}", "채점기 오류: {}"},
}};

constexpr bool messages_in_order() {
  for (std::size_t i = 0; i < kCatalogue.size(); ++i)
    if (static_cast<std::size_t>(kCatalogue[i].id) != i) return false;
  return true;
}
static_assert(messages_in_order(), "kCatalogue rows must follow the order of enum Msg");

constexpr std::array<std::string_view, 2> kLangCodes = {"en", "ko"};

const CatalogueRow& row_of(Msg id) { return kCatalogue.at(static_cast<std::size_t>(id)); }

// The code point at text[i] and its length in bytes; length 0 for an invalid sequence.
std::pair<char32_t, std::size_t> decode_at(std::string_view text, std::size_t i) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
  const unsigned char lead = byte(i);
  if (lead < 0x80) return {lead, 1};
  const std::size_t n = lead < 0xC2 ? 0 : lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : lead < 0xF5 ? 4 : 0;
  if (n == 0 || i + n > text.size()) return {0, 0};
  char32_t cp = lead & (0x7F >> n);
  for (std::size_t k = 1; k < n; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) return {0, 0};
    cp = (cp << 6) | (byte(i + k) & 0x3F);
  }
  return {cp, n};
}

// East Asian Wide and Fullwidth ranges (Unicode UAX #11) that a report can meet: Hangul, CJK,
// kana, fullwidth forms.
bool is_wide(char32_t cp) {
  return (cp >= 0x1100 && cp <= 0x115F) || (cp >= 0x2E80 && cp <= 0x303E) ||
         (cp >= 0x3041 && cp <= 0x33FF) || (cp >= 0x3400 && cp <= 0x4DBF) ||
         (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0xA960 && cp <= 0xA97F) ||
         (cp >= 0xAC00 && cp <= 0xD7A3) || (cp >= 0xF900 && cp <= 0xFAFF) ||
         (cp >= 0xFE30 && cp <= 0xFE4F) || (cp >= 0xFF00 && cp <= 0xFF60) ||
         (cp >= 0xFFE0 && cp <= 0xFFE6) || (cp >= 0x20000 && cp <= 0x3FFFD);
}

bool is_korean_locale(std::string_view locale) {
  if (!locale.starts_with("ko")) return false;
  return locale.size() == 2 || locale[2] == '_' || locale[2] == '.' || locale[2] == '@';
}

}  // namespace

std::string_view to_string(Lang lang) { return kLangCodes.at(static_cast<std::size_t>(lang)); }

std::optional<Lang> parse_lang(std::string_view code) {
  for (Lang lang : report_languages())
    if (to_string(lang) == code) return lang;
  return std::nullopt;
}

std::vector<Lang> report_languages() { return {Lang::en, Lang::ko}; }

Lang lang_from_locale(std::string_view lc_all, std::string_view lc_messages, std::string_view lang) {
  for (std::string_view locale : {lc_all, lc_messages, lang})
    if (!locale.empty()) return is_korean_locale(locale) ? Lang::ko : Lang::en;
  return Lang::en;
}

std::string_view message_id(Msg id) { return row_of(id).name; }

std::size_t message_arity(Msg id) { return row_of(id).arity; }

std::string_view message(Lang lang, Msg id) {
  const CatalogueRow& row = row_of(id);
  switch (lang) {
    case Lang::en: return row.en;
    case Lang::ko: return row.ko;
  }
  return row.en;
}

std::size_t display_width(std::string_view utf8) {
  std::size_t width = 0;
  for (std::size_t i = 0; i < utf8.size();) {
    const auto [cp, length] = decode_at(utf8, i);
    if (length == 0) {
      ++width;
      ++i;
      continue;
    }
    i += length;
    if (cp < 0x20 || (cp >= 0x7F && cp < 0xA0)) continue;
    width += is_wide(cp) ? 2 : 1;
  }
  return width;
}

}  // namespace ipcg
