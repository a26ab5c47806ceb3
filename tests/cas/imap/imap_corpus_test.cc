// Replays the seed corpus of the IMAP command fuzz target (tests/fuzz/corpus/imap_command) as a
// normal test: every hand-written file holds real commands, which must parse without errors
// however the bytes are chunked. Files named fuzz_* were found by libFuzzer and hold arbitrary
// bytes; fuzz_replay.imap_command replays those (no crash is the only property they carry). Each file starts with two control bytes for the fuzz target (chunk size,
// options: bit 0 LITERAL+, bit 1 UTF8=ACCEPT).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "cas/imap/codec/parser.h"
#include "tests/cas/imap/parser_test_util.h"

namespace cas::imap {
namespace {

TEST(ImapCorpusTest, SeedCorpusParses) {
  size_t files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(IMAP_CORPUS_DIR)) {
    if (!entry.is_regular_file()) continue;
    if (entry.path().filename().string().starts_with("fuzz_")) continue;
    std::ifstream in(entry.path(), std::ios::binary);
    std::stringstream buffer;
    buffer << in.rdbuf();
    const std::string data = buffer.str();
    ASSERT_GE(data.size(), 2u) << entry.path();
    ++files;

    testing::RunOptions run;
    run.options.literal_plus = (data[1] & 1) != 0;
    run.options.utf8_accept = (data[1] & 2) != 0;
    const std::string input = data.substr(2);
    const std::vector<std::string> events = testing::RunAllSplits(input, run);
    ASSERT_FALSE(events.empty()) << entry.path();
    for (const std::string& e : events) {
      EXPECT_EQ(e.find(" BAD "), std::string::npos) << entry.path() << ": " << e;
      EXPECT_EQ(e.find(" NO "), std::string::npos) << entry.path() << ": " << e;
    }
  }
  EXPECT_GE(files, 30u);
}

}  // namespace
}  // namespace cas::imap
