#include "scheduler/recent.hpp"

#include <string_view>

namespace etcdmesos::scheduler {

std::string clip_text(std::string text, std::size_t limit) {
  if (text.size() <= limit) {
    return text;
  }
  constexpr std::string_view kEllipsis = "...";
  std::size_t keep = limit > kEllipsis.size() ? limit - kEllipsis.size() : 0;
  // Back up over UTF-8 continuation bytes (10xxxxxx) so that the cut falls
  // between characters: the page and JSON parsers get valid UTF-8.
  while (keep > 0 && (static_cast<unsigned char>(text[keep]) & 0xC0) == 0x80) {
    --keep;
  }
  text.resize(keep);
  if (limit >= kEllipsis.size()) {
    text += kEllipsis;
  }
  return text;
}

}  // namespace etcdmesos::scheduler
