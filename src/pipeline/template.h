#pragma once

// The {{...}} references of a pipeline template, and substitution.
//
//   MLFORGE_ASSIGN_OR_RETURN(auto refs, ParseTemplate("echo {{params.x}}"));
//   std::string text = Substitute(refs, [](const Reference& ref) { return ...; });
//
// A reference names one thing (see pipeline/spec.h for the list); whitespace
// inside the braces is ignored: "{{ params.x }}" is "{{params.x}}".

#include <functional>
#include <string>
#include <vector>

#include "core/status.h"

namespace mlforge::pipeline {

enum class ReferenceKind {
  kParam,       // params.NAME
  kOwnOutput,   // outputs.NAME
  kStepOutput,  // steps.STEP.outputs.NAME
  kStepRunId,   // steps.STEP.run_id
  kItem,        // item
  kPipeline,    // pipeline.NAME (name, run_id, run_dir, status)
};

struct Reference {
  ReferenceKind kind = ReferenceKind::kParam;
  std::string step;  // kStepOutput, kStepRunId
  std::string name;  // param, output or pipeline field
  std::string text;  // as written inside the braces, trimmed
};

// One piece of a template: literal text, or a reference.
struct TemplatePart {
  bool is_reference = false;
  std::string literal;
  Reference reference;
};

// Classifies one reference text ("steps.train.outputs.run"). InvalidArgument
// naming the forms that exist when it matches none.
core::Result<Reference> ParseReference(const std::string& text);

// Splits a template into parts. InvalidArgument for an unclosed "{{" or a
// reference that ParseReference rejects.
core::Result<std::vector<TemplatePart>> ParseTemplate(const std::string& text);

// Every reference of a parsed template.
std::vector<Reference> References(const std::vector<TemplatePart>& parts);

// The template with each reference replaced by `resolve(reference)`; the
// first error from `resolve` is returned.
core::Result<std::string> Substitute(
    const std::vector<TemplatePart>& parts,
    const std::function<core::Result<std::string>(const Reference&)>& resolve);

}  // namespace mlforge::pipeline
