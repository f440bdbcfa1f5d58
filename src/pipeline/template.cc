#include "pipeline/template.h"

namespace mlforge::pipeline {
namespace {

std::string Trim(const std::string& text) {
  size_t begin = text.find_first_not_of(" \t");
  if (begin == std::string::npos) return "";
  size_t end = text.find_last_not_of(" \t");
  return text.substr(begin, end - begin + 1);
}

std::vector<std::string> SplitDots(const std::string& text) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (true) {
    size_t dot = text.find('.', start);
    parts.push_back(text.substr(start, dot == std::string::npos ? std::string::npos : dot - start));
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  return parts;
}

bool IsName(const std::string& text) {
  if (text.empty()) return false;
  for (char character : text) {
    bool ok = (character >= 'a' && character <= 'z') || (character >= 'A' && character <= 'Z') ||
              (character >= '0' && character <= '9') || character == '_' || character == '-';
    if (!ok) return false;
  }
  return true;
}

}  // namespace

core::Result<Reference> ParseReference(const std::string& raw) {
  Reference reference;
  reference.text = Trim(raw);
  std::vector<std::string> parts = SplitDots(reference.text);
  bool names_ok = true;
  for (const std::string& part : parts) names_ok = names_ok && IsName(part);
  if (names_ok) {
    if (parts.size() == 1 && parts[0] == "item") {
      reference.kind = ReferenceKind::kItem;
      return reference;
    }
    if (parts.size() == 2 && parts[0] == "params") {
      reference.kind = ReferenceKind::kParam;
      reference.name = parts[1];
      return reference;
    }
    if (parts.size() == 2 && parts[0] == "outputs") {
      reference.kind = ReferenceKind::kOwnOutput;
      reference.name = parts[1];
      return reference;
    }
    if (parts.size() == 2 && parts[0] == "pipeline") {
      reference.kind = ReferenceKind::kPipeline;
      reference.name = parts[1];
      return reference;
    }
    if (parts.size() == 4 && parts[0] == "steps" && parts[2] == "outputs") {
      reference.kind = ReferenceKind::kStepOutput;
      reference.step = parts[1];
      reference.name = parts[3];
      return reference;
    }
    if (parts.size() == 3 && parts[0] == "steps" && parts[2] == "run_id") {
      reference.kind = ReferenceKind::kStepRunId;
      reference.step = parts[1];
      return reference;
    }
  }
  return core::InvalidArgumentError(
      "unknown reference '{{" + reference.text +
      "}}'; use params.NAME, outputs.NAME, steps.STEP.outputs.NAME, steps.STEP.run_id, item or "
      "pipeline.(name|run_id|run_dir|status)");
}

core::Result<std::vector<TemplatePart>> ParseTemplate(const std::string& text) {
  std::vector<TemplatePart> parts;
  size_t position = 0;
  while (position < text.size()) {
    size_t open = text.find("{{", position);
    if (open == std::string::npos) {
      parts.push_back({false, text.substr(position), {}});
      break;
    }
    if (open > position) parts.push_back({false, text.substr(position, open - position), {}});
    size_t close = text.find("}}", open + 2);
    if (close == std::string::npos) {
      return core::InvalidArgumentError("'{{' without a closing '}}' in: " + text);
    }
    MLFORGE_ASSIGN_OR_RETURN(Reference reference,
                             ParseReference(text.substr(open + 2, close - open - 2)));
    parts.push_back({true, "", std::move(reference)});
    position = close + 2;
  }
  return parts;
}

std::vector<Reference> References(const std::vector<TemplatePart>& parts) {
  std::vector<Reference> references;
  for (const TemplatePart& part : parts) {
    if (part.is_reference) references.push_back(part.reference);
  }
  return references;
}

core::Result<std::string> Substitute(
    const std::vector<TemplatePart>& parts,
    const std::function<core::Result<std::string>(const Reference&)>& resolve) {
  std::string out;
  for (const TemplatePart& part : parts) {
    if (!part.is_reference) {
      out += part.literal;
      continue;
    }
    MLFORGE_ASSIGN_OR_RETURN(std::string value, resolve(part.reference));
    out += value;
  }
  return out;
}

}  // namespace mlforge::pipeline
