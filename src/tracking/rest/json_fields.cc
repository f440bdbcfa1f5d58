#include "tracking/rest/json_fields.h"

#include <charconv>

namespace mlforge::tracking::rest {

core::Status WrongType(std::string_view field, std::string_view expected, const Json& value) {
  return core::InvalidArgumentError("Field '" + std::string(field) + "' must be " +
                                    std::string(expected) + ", got " + DumpJson(value));
}

core::Status ReadString(const Json& json, std::string_view field, std::string& out) {
  auto found = json.find(field);
  if (found == json.end() || found->is_null()) return core::Status();
  if (!found->is_string()) return WrongType(field, "a string", *found);
  out = found->get<std::string>();
  return core::Status();
}

core::Result<std::optional<int64_t>> ReadInt64(const Json& json, std::string_view field) {
  auto found = json.find(field);
  if (found == json.end() || found->is_null()) return std::optional<int64_t>();
  if (found->is_number_integer()) return std::optional<int64_t>(found->get<int64_t>());
  if (found->is_string()) {
    const std::string& text = found->get_ref<const std::string&>();
    int64_t value = 0;
    auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (error == std::errc() && end == text.data() + text.size() && !text.empty()) {
      return std::optional<int64_t>(value);
    }
  }
  return WrongType(field, "an int64", *found);
}

core::Status ReadInt64Into(const Json& json, std::string_view field, int64_t& out) {
  MLFORGE_ASSIGN_OR_RETURN(std::optional<int64_t> value, ReadInt64(json, field));
  if (value.has_value()) out = *value;
  return core::Status();
}

// The elements of list `field` (absent or null: none).
core::Result<const Json*> ReadList(const Json& json, std::string_view field) {
  static const Json kEmpty = Json::array();
  auto found = json.find(field);
  if (found == json.end() || found->is_null()) return &kEmpty;
  if (!found->is_array()) return WrongType(field, "a list", *found);
  return &*found;
}

core::Status RequireObject(const Json& json, std::string_view what) {
  if (json.is_object()) return core::Status();
  return core::InvalidArgumentError("Expected " + std::string(what) + " to be a JSON object, got " +
                                    DumpJson(json));
}

}  // namespace mlforge::tracking::rest
