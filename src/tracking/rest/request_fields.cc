#include "tracking/rest/request_fields.h"

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <utility>

namespace mlforge::tracking::rest {
namespace {

constexpr std::string_view kSeeApiDocs =
    " See the API docs for more information about request parameters.";

// The proto's repeated fields that a GET may carry in its query string.
bool IsRepeatedQueryField(std::string_view name) {
  return name == "experiment_ids" || name == "order_by" || name == "run_ids";
}

// MLflow (proto_json_utils._stringify_all_experiment_ids) turns integer
// experiment ids into strings before parsing, for pre-0.9.1 clients.
bool TakesIntegerAsString(std::string_view name) {
  return name == "experiment_id" || name == "experiment_ids";
}

// Python's name for the type json.loads gives a value, for MLflow's hint.
std::string_view PythonTypeName(const Json& value) {
  switch (value.type()) {
    case Json::value_t::null:
      return "NoneType";
    case Json::value_t::boolean:
      return "bool";
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned:
      return "int";
    case Json::value_t::number_float:
      return "float";
    case Json::value_t::string:
      return "str";
    case Json::value_t::array:
      return "list";
    default:
      return "dict";
  }
}

// True when `body` nests arrays/objects deeper than `limit`, scanning bytes
// (strings skipped) so the check itself needs no stack.
bool NestedDeeperThan(std::string_view body, int limit) {
  int depth = 0;
  bool in_string = false;
  for (size_t index = 0; index < body.size(); ++index) {
    char byte = body[index];
    if (in_string) {
      if (byte == '\\') {
        ++index;
      } else if (byte == '"') {
        in_string = false;
      }
    } else if (byte == '"') {
      in_string = true;
    } else if (byte == '[' || byte == '{') {
      if (++depth > limit) return true;
    } else if (byte == ']' || byte == '}') {
      --depth;
    }
  }
  return false;
}

std::string_view Trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

// MLflow echoes the content type only when it is made of these characters
// (server/validation.py, against reflected XSS).
bool SafeToEcho(std::string_view text) {
  for (char byte : text) {
    bool ok = (byte >= 'a' && byte <= 'z') || (byte >= 'A' && byte <= 'Z') ||
              (byte >= '0' && byte <= '9') || byte == '-' || byte == '/' || byte == ';' ||
              byte == ',' || byte == '+' || byte == '_' || byte == ' ';
    if (!ok) return false;
  }
  return true;
}

core::Status CheckContentType(const std::optional<std::string>& header) {
  std::optional<std::string_view> media_type;
  if (header.has_value()) {
    std::string_view value = *header;
    media_type = Trim(value.substr(0, value.find(';')));
  }
  if (media_type.has_value() && net::EqualsIgnoreCase(*media_type, "application/json")) {
    return core::Status::Ok();
  }
  std::string message = "Bad Request. Content-Type must be one of [application/json].";
  if (media_type.has_value() && SafeToEcho(*media_type)) {
    message += " Got '" + std::string(*media_type) + "'.";
  }
  return core::InvalidArgumentError(std::move(message));
}

// Parses a decimal integer string as Python's int() would (surrounding
// blanks and a sign allowed).
std::optional<int64_t> ParseIntegerString(std::string_view text) {
  text = Trim(text);
  if (!text.empty() && text.front() == '+') text.remove_prefix(1);
  int64_t value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || error != std::errc() || end != text.data() + text.size()) {
    return std::nullopt;
  }
  return value;
}

std::optional<double> ParseDoubleString(const std::string& text) {
  if (text == "NaN") return std::numeric_limits<double>::quiet_NaN();
  if (text == "Infinity") return std::numeric_limits<double>::infinity();
  if (text == "-Infinity") return -std::numeric_limits<double>::infinity();
  std::string_view trimmed = Trim(text);
  if (trimmed.empty()) return std::nullopt;
  std::string copy(trimmed);
  char* end = nullptr;
  errno = 0;
  double value = std::strtod(copy.c_str(), &end);
  if (end != copy.c_str() + copy.size() || errno == ERANGE) return std::nullopt;
  return value;
}

}  // namespace

core::Result<RequestFields> RequestFields::FromJsonBody(std::optional<std::string> content_type,
                                                        std::string_view body) {
  MLFORGE_RETURN_IF_ERROR(CheckContentType(content_type));
  if (Trim(body).empty()) return RequestFields(Json::object(), "");
  if (NestedDeeperThan(body, kMaxJsonDepth)) {
    return core::InvalidArgumentError("Malformed JSON request body: nested deeper than " +
                                      std::to_string(kMaxJsonDepth) + " levels.");
  }
  Json parsed = Json::parse(body, nullptr, /*allow_exceptions=*/false);
  // Older clients double-encode: the body is a JSON string holding the JSON.
  if (parsed.is_string()) {
    std::string inner = parsed.get<std::string>();
    if (NestedDeeperThan(inner, kMaxJsonDepth)) {
      return core::InvalidArgumentError("Malformed JSON request body: nested too deeply.");
    }
    parsed = Json::parse(inner, nullptr, /*allow_exceptions=*/false);
  }
  if (parsed.is_discarded()) {
    return core::InvalidArgumentError(
        "Malformed JSON request body. Send a JSON object, e.g. {\"experiment_id\": \"0\"}.");
  }
  if (parsed.is_null()) return RequestFields(Json::object(), "");
  if (!parsed.is_object()) {
    return core::InvalidArgumentError(
        std::string("The request body must be a JSON object, got a JSON ") + parsed.type_name() +
        ".");
  }
  return RequestFields(std::move(parsed), "");
}

core::Status RequestFields::CheckJsonContentType(const std::optional<std::string>& content_type) {
  return CheckContentType(content_type);
}

RequestFields RequestFields::FromQuery(const net::QueryParams& query) {
  Json object = Json::object();
  for (const auto& [name, value] : query) {
    if (IsRepeatedQueryField(name)) {
      Json& list = object[name];
      if (!list.is_array()) list = Json::array();
      list.push_back(value);
    } else if (!object.contains(name)) {
      object[name] = value;  // flask's args.get(): the first value
    }
  }
  return RequestFields(std::move(object), "");
}

RequestFields::RequestFields(Json object, std::string path)
    : owner_(std::make_shared<Json>(std::move(object))),
      object_(owner_.get()),
      path_(std::move(path)) {
  assert(object_->is_object() && "RequestFields holds a JSON object");
}

RequestFields::RequestFields(std::shared_ptr<Json> owner, const Json* object, std::string path)
    : owner_(std::move(owner)), object_(object), path_(std::move(path)) {
  assert(object_->is_object() && "RequestFields holds a JSON object");
}

const Json* RequestFields::Find(std::string_view name) const {
  auto found = object_->find(name);
  if (found == object_->end() || found->is_null()) return nullptr;
  return &*found;
}

bool RequestFields::Has(std::string_view name) const { return Find(name) != nullptr; }

std::string RequestFields::PathOf(std::string_view name) const {
  return path_.empty() ? std::string(name) : path_ + "." + std::string(name);
}

core::Status RequestFields::MissingValue(std::string_view name) const {
  return core::InvalidArgumentError("Missing value for required parameter '" + PathOf(name) + "'." +
                                    std::string(kSeeApiDocs));
}

core::Status RequestFields::InvalidValue(std::string_view name, const Json& value,
                                         std::string_view hint) const {
  std::string message = "Invalid value " + DumpJson(value, /*ensure_ascii=*/true) +
                        " for parameter '" + PathOf(name) + "' supplied: ";
  if (hint.empty()) {
    message += " Hint: Value was of type '" + std::string(PythonTypeName(value)) + "'.";
  } else {
    message += std::string(hint);
  }
  return core::InvalidArgumentError(message + std::string(kSeeApiDocs));
}

core::Result<std::optional<std::string>> RequestFields::OptionalString(
    std::string_view name) const {
  const Json* value = Find(name);
  if (value == nullptr) return std::optional<std::string>();
  if (value->is_string()) return std::optional<std::string>(value->get<std::string>());
  if (TakesIntegerAsString(name) && value->is_number_integer()) {
    return std::optional<std::string>(DumpJson(*value));
  }
  return InvalidValue(name, *value);
}

core::Result<std::string> RequestFields::RequiredString(std::string_view name) const {
  MLFORGE_ASSIGN_OR_RETURN(std::optional<std::string> value, OptionalString(name));
  if (!value.has_value() || value->empty()) return MissingValue(name);
  return *std::move(value);
}

core::Result<std::optional<int64_t>> RequestFields::OptionalInt64(std::string_view name) const {
  const Json* value = Find(name);
  if (value == nullptr) return std::optional<int64_t>();
  if (value->is_number_integer()) {
    if (value->is_number_unsigned() &&
        value->get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      return InvalidValue(name, *value, "Value is out of range for a 64-bit integer.");
    }
    return std::optional<int64_t>(value->get<int64_t>());
  }
  if (value->is_number_float()) {
    double number = value->get<double>();
    // 2^63 is the first double past int64's range.
    if (std::isfinite(number) && std::trunc(number) == number && number >= -9.2233720368547758e18 &&
        number < 9.2233720368547758e18) {
      return std::optional<int64_t>(static_cast<int64_t>(number));
    }
    return InvalidValue(name, *value);
  }
  if (value->is_string()) {
    std::optional<int64_t> parsed = ParseIntegerString(value->get<std::string>());
    if (parsed.has_value()) return parsed;
  }
  return InvalidValue(name, *value);
}

core::Result<int64_t> RequestFields::RequiredInt64(std::string_view name) const {
  MLFORGE_ASSIGN_OR_RETURN(std::optional<int64_t> value, OptionalInt64(name));
  if (!value.has_value()) return MissingValue(name);
  return *value;
}

core::Result<std::optional<double>> RequestFields::OptionalDouble(std::string_view name) const {
  const Json* value = Find(name);
  if (value == nullptr) return std::optional<double>();
  if (value->is_number()) return std::optional<double>(value->get<double>());
  if (value->is_string()) {
    std::optional<double> parsed = ParseDoubleString(value->get<std::string>());
    if (parsed.has_value()) return parsed;
  }
  return InvalidValue(name, *value);
}

core::Result<double> RequestFields::RequiredDouble(std::string_view name) const {
  MLFORGE_ASSIGN_OR_RETURN(std::optional<double> value, OptionalDouble(name));
  if (!value.has_value()) return MissingValue(name);
  return *value;
}

core::Result<std::vector<std::string>> RequestFields::StringList(std::string_view name) const {
  std::vector<std::string> strings;
  const Json* value = Find(name);
  if (value == nullptr) return strings;
  if (!value->is_array()) return InvalidValue(name, *value);
  strings.reserve(value->size());
  for (const Json& element : *value) {
    if (element.is_string()) {
      strings.push_back(element.get<std::string>());
    } else if (TakesIntegerAsString(name) && element.is_number_integer()) {
      strings.push_back(DumpJson(element));
    } else {
      return InvalidValue(name, *value,
                          "Every element must be a string, found " + DumpJson(element) + ".");
    }
  }
  return strings;
}

core::Result<std::vector<RequestFields>> RequestFields::ObjectList(std::string_view name) const {
  std::vector<RequestFields> objects;
  const Json* value = Find(name);
  if (value == nullptr) return objects;
  if (!value->is_array()) return InvalidValue(name, *value);
  objects.reserve(value->size());
  for (size_t index = 0; index < value->size(); ++index) {
    const Json& element = (*value)[index];
    std::string path = PathOf(name) + "[" + std::to_string(index) + "]";
    if (!element.is_object()) {
      return core::InvalidArgumentError(
          "Invalid value " + DumpJson(element, true) + " for parameter '" + path +
          "' supplied:  Hint: Value was of type '" + std::string(PythonTypeName(element)) + "'." +
          std::string(kSeeApiDocs));
    }
    objects.push_back(RequestFields(owner_, &element, std::move(path)));
  }
  return objects;
}

core::Result<std::optional<RequestFields>> RequestFields::OptionalObject(
    std::string_view name) const {
  const Json* value = Find(name);
  if (value == nullptr) return std::optional<RequestFields>();
  if (!value->is_object()) return InvalidValue(name, *value);
  return std::optional<RequestFields>(RequestFields(owner_, value, PathOf(name)));
}

core::Result<std::string> RequestFields::RunId() const {
  MLFORGE_ASSIGN_OR_RETURN(std::optional<std::string> run_id, OptionalString("run_id"));
  if (run_id.has_value() && !run_id->empty()) return *std::move(run_id);
  MLFORGE_ASSIGN_OR_RETURN(std::optional<std::string> run_uuid, OptionalString("run_uuid"));
  if (run_uuid.has_value() && !run_uuid->empty()) return *std::move(run_uuid);
  return MissingValue("run_id");
}

core::Result<std::optional<bool>> RequestFields::OptionalBool(std::string_view name) const {
  const Json* value = Find(name);
  if (value == nullptr) return std::optional<bool>();
  if (value->is_boolean()) return std::optional<bool>(value->get<bool>());
  if (value->is_string()) {
    const std::string& text = value->get_ref<const std::string&>();
    if (net::EqualsIgnoreCase(text, "true")) return std::optional<bool>(true);
    if (net::EqualsIgnoreCase(text, "false")) return std::optional<bool>(false);
  }
  return InvalidValue(name, *value);
}

void RequestFields::Set(std::string_view name, std::string value) {
  // Copy on write: views that share this body must not see the change.
  if (owner_.use_count() > 1 || object_ != owner_.get()) {
    owner_ = std::make_shared<Json>(*object_);
    object_ = owner_.get();
  }
  (*owner_)[std::string(name)] = std::move(value);
}

}  // namespace mlforge::tracking::rest
