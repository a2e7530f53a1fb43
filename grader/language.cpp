#include "language.hpp"

#include <cstdlib>

namespace ipcg {
namespace {

std::string_view locale_variable(const char* name) {
  const char* value = std::getenv(name);
  return value == nullptr ? std::string_view() : std::string_view(value);
}

// English has no translations: its text is the spec's own.
std::string translation_in(const Translations& translations, Lang lang) {
  const auto it = translations.find(to_string(lang));
  return lang == Lang::en || it == translations.end() ? std::string() : it->second;
}

}  // namespace

Lang report_language(const std::string& flag) {
  if (auto lang = parse_lang(flag)) return *lang;
  return lang_from_locale(locale_variable("LC_ALL"), locale_variable("LC_MESSAGES"), locale_variable("LANG"));
}

LabText lab_text_for(const LabSpec& lab, Lang lang) {
  LabText text;
  text.title = translation_in(lab.title_i18n, lang);
  text.mechanism = translation_in(lab.mechanism_i18n, lang);
  for (const TestSpec& t : lab.tests) {
    LabText::Test test{translation_in(t.description_i18n, lang), translation_in(t.property_i18n, lang),
                       translation_in(t.hint_i18n, lang)};
    if (!test.description.empty() || !test.property.empty() || !test.hint.empty())
      text.tests.emplace(t.name, std::move(test));
  }
  return text;
}

std::vector<std::string> report_language_codes() {
  std::vector<std::string> codes;
  for (Lang lang : report_languages()) codes.emplace_back(to_string(lang));
  return codes;
}

}  // namespace ipcg
