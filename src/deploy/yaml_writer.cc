#include "deploy/yaml_writer.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <sstream>

#include "deploy/internal/regex.h"

namespace mlforge::deploy {
namespace {

void Emit(YAML::Emitter& out, const Object& value) {
  switch (value.type()) {
    case Object::value_t::object:
      out << YAML::BeginMap;
      for (const auto& [key, item] : value.items()) {
        out << YAML::Key;
        if (NeedsQuotes(key)) out << YAML::DoubleQuoted;
        out << key << YAML::Value;
        Emit(out, item);
      }
      out << YAML::EndMap;
      break;
    case Object::value_t::array:
      out << YAML::BeginSeq;
      for (const auto& item : value) Emit(out, item);
      out << YAML::EndSeq;
      break;
    case Object::value_t::string: {
      const auto& text = value.get_ref<const std::string&>();
      if (text.find('\n') != std::string::npos) {
        out << YAML::Literal << text;
      } else if (NeedsQuotes(text)) {
        out << YAML::DoubleQuoted << text;
      } else {
        out << text;
      }
      break;
    }
    case Object::value_t::boolean:
      out << value.get<bool>();
      break;
    case Object::value_t::number_integer:
      out << value.get<int64_t>();
      break;
    case Object::value_t::number_unsigned:
      out << value.get<uint64_t>();
      break;
    case Object::value_t::number_float:
      out << value.get<double>();
      break;
    default:
      out << YAML::Null;
      break;
  }
}

}  // namespace

bool NeedsQuotes(const std::string& text) {
  if (text.empty()) return true;
  // YAML 1.1's booleans and nulls (which Kubernetes' Go reader still
  // honours for some fields) and YAML 1.2's.
  static constexpr std::array<const char*, 22> kWords = {
      "y",    "Y",    "yes",   "Yes",   "YES",   "n",  "N",  "no", "No",  "NO",  "true",
      "True", "TRUE", "false", "False", "FALSE", "on", "On", "ON", "off", "Off", "OFF"};
  if (std::find(kWords.begin(), kWords.end(), text) != kWords.end()) return true;
  if (text == "~" || text == "null" || text == "Null" || text == "NULL") return true;
  // Numbers in any of the forms either version reads: 12, -3, 1_000, 0x1F,
  // 0o17, 1.5e3, .5, .inf, .NaN, and YAML 1.1's sexagesimal 1:30.
  static const std::regex number_pattern(
      R"([-+]?([0-9][0-9_]*(\.[0-9_]*)?|\.[0-9_]+)([eE][-+]?[0-9]+)?)"
      R"(|[-+]?0[xX][0-9a-fA-F_]+|0[oO]?[0-7_]+|[-+]?\.(inf|Inf|INF)|\.(nan|NaN|NAN))"
      R"(|[-+]?[0-9][0-9_]*(:[0-5]?[0-9])+(\.[0-9_]*)?)");
  return std::regex_match(text, number_pattern);
}

std::string ToYaml(const std::vector<Document>& documents) {
  std::ostringstream stream;
  for (const Document& document : documents) {
    if (!document.comment.empty()) {
      std::istringstream lines(document.comment);
      std::string line;
      while (std::getline(lines, line)) stream << (line.empty() ? "#" : "# " + line) << "\n";
    }
    YAML::Emitter out;
    out.SetIndent(2);
    out.SetSeqFormat(YAML::Block);
    out << YAML::BeginDoc;
    Emit(out, document.object);
    stream << out.c_str() << "\n";
  }
  return stream.str();
}

}  // namespace mlforge::deploy
