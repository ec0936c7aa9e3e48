#include "vfkit/options.hpp"

namespace vmm::vfkit::detail {

std::vector<std::string> split_plain(std::string_view text) {
  std::vector<std::string> pieces;
  std::size_t start = 0;
  for (;;) {
    const auto comma = text.find(',', start);
    pieces.emplace_back(text.substr(start, comma == std::string_view::npos ? text.npos : comma - start));
    if (comma == std::string_view::npos) return pieces;
    start = comma + 1;
  }
}

std::string trim_quotes(std::string_view text) {
  if (text.empty() || text.front() != '"' || text.back() != '"') return std::string(text);
  const auto first = text.find_first_not_of('"');
  if (first == std::string_view::npos) return {};
  const auto last = text.find_last_not_of('"');
  return std::string(text.substr(first, last - first + 1));
}

Result<std::vector<std::string>> split_quoted(std::string_view flag, std::string_view text) {
  std::vector<std::string> pieces;
  std::string current;
  bool quoted = false;
  for (const char c : text) {
    if (quoted) {
      if (c == '"') quoted = false;
      current += c;
    } else if (c == ',') {
      pieces.push_back(trim_quotes(current));
      current.clear();
    } else {
      if (c == '"') quoted = true;
      current += c;
    }
  }
  if (quoted)
    return make_error(Errc::invalid_config,
                      std::string(flag) + ": mismatched \" in \"" + std::string(text) + "\"");
  // As vfkit: a last empty piece is dropped only when it is the only one.
  auto last = trim_quotes(current);
  if (!pieces.empty() || !last.empty()) pieces.push_back(std::move(last));
  return pieces;
}

std::vector<Option> to_options(const std::vector<std::string>& pieces, std::size_t first) {
  std::vector<Option> options;
  for (std::size_t i = first; i < pieces.size(); ++i) {
    const auto& piece = pieces[i];
    if (piece.empty()) continue;
    const auto equals = piece.find('=');
    if (equals == std::string::npos) options.push_back({piece, {}, false});
    else options.push_back({piece.substr(0, equals), piece.substr(equals + 1), true});
  }
  return options;
}

}  // namespace vmm::vfkit::detail
