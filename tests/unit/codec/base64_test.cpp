#include "codec/mesos.hpp"

#include <gtest/gtest.h>

#include <string>

namespace etcdmesos::mesos {
namespace {

TEST(Base64, Rfc4648Vectors) {
  const std::pair<std::string, std::string> vectors[] = {
      {"", ""},
      {"f", "Zg=="},
      {"fo", "Zm8="},
      {"foo", "Zm9v"},
      {"foob", "Zm9vYg=="},
      {"fooba", "Zm9vYmE="},
      {"foobar", "Zm9vYmFy"},
  };
  for (const auto& [raw, text] : vectors) {
    EXPECT_EQ(base64_encode(raw), text);
    auto decoded = base64_decode(text);
    ASSERT_TRUE(decoded) << text;
    EXPECT_EQ(*decoded, raw);
  }
}

TEST(Base64, AllByteValuesRoundTrip) {
  std::string raw;
  for (int i = 0; i < 256; ++i) {
    raw += static_cast<char>(i);
  }
  for (std::size_t n = 0; n <= raw.size(); n += 37) {
    auto decoded = base64_decode(base64_encode(raw.substr(0, n)));
    ASSERT_TRUE(decoded);
    EXPECT_EQ(*decoded, raw.substr(0, n));
  }
  EXPECT_EQ(base64_encode("\xfb\xff"), "+/8=");
}

TEST(Base64, MissingPaddingAccepted) {
  EXPECT_EQ(base64_decode("Zg").value(), "f");
  EXPECT_EQ(base64_decode("Zm8").value(), "fo");
  EXPECT_EQ(base64_decode("0ljf5cp8T+qrf5+EWPGvgg").value().size(), 16u);
}

TEST(Base64, InvalidRejected) {
  for (const char* bad : {"Z", "Zg=", "Zg===", "Z===", "=", "Zm9v=", "Zm 9v", "Zm9v\n", "Zm-_",
                          "Zm9v!", "Z=g=", "Zg==Zg==", "\xc3\xa9\xc3\xa9"}) {
    EXPECT_FALSE(base64_decode(bad)) << bad;
  }
}

}  // namespace
}  // namespace etcdmesos::mesos
