#include "core/base64.h"

#include <gtest/gtest.h>

namespace mlforge::core {
namespace {

TEST(Base64Test, RoundTripsEveryPaddingLength) {
  // RFC 4648's test vectors.
  const std::pair<const char*, const char*> vectors[] = {
      {"", ""}, {"f", "Zg=="}, {"fo", "Zm8="}, {"foo", "Zm9v"},
      {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="}, {"foobar", "Zm9vYmFy"}};
  for (const auto& [plain, encoded] : vectors) {
    EXPECT_EQ(Base64Encode(plain), encoded);
    EXPECT_EQ(Base64Decode(encoded), plain);
  }
  std::string binary("\x00\xff\x10:\x80", 5);
  EXPECT_EQ(Base64Decode(Base64Encode(binary)), binary);
  EXPECT_EQ(Base64Decode("Zm9v"), "foo");
  EXPECT_EQ(Base64Decode("Zg"), "f");  // padding optional
}

TEST(Base64Test, RejectsCharactersOutsideTheAlphabet) {
  EXPECT_EQ(Base64Decode("Zm9v!"), std::nullopt);
  EXPECT_EQ(Base64Decode("Zm 9v"), std::nullopt);
  EXPECT_EQ(Base64Decode("Z"), std::nullopt);
}

}  // namespace
}  // namespace mlforge::core
