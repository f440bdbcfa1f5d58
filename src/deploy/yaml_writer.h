#pragma once

// Kubernetes manifests as YAML: a list of objects, each written as one
// document of a multi-document stream ("---" between them).
//
//   std::vector<Document> documents = {{"headless Service for rank 0", service}, ...};
//   std::string yaml = ToYaml(documents);
//
// An object is an ordered JSON value, so keys come out in the order they
// were set, as a person would write them. Strings that a YAML reader would
// take for another type ("2", "true", "null", "0x1F", "") are quoted, so an
// environment value stays a string; strings with newlines become literal
// blocks. Pure functions; thread-safe.

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace mlforge::deploy {

using Object = nlohmann::ordered_json;

struct Document {
  // A comment written above the document, one "# " line per line of text;
  // empty for none.
  std::string comment;
  Object object;
};

// The documents as one YAML stream, each starting with "---".
std::string ToYaml(const std::vector<Document>& documents);

// Whether a plain (unquoted) YAML scalar `text` would be read as something
// other than this string: a number, boolean or null in YAML 1.1 or 1.2, or
// the empty string.
bool NeedsQuotes(const std::string& text);

}  // namespace mlforge::deploy
