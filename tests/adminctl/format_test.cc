// Format-List / Format-Table output, compared as exact text.
#include "adminctl/format.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <ctime>

namespace adminctl {
namespace {

std::vector<Record> TwoMailboxes() {
  Record alice;
  alice.Add("Name", "alice");
  alice.Add("Alias", "alice");
  alice.Add("ServerName", "mbx01");
  alice.Add("ProhibitSendQuota", "Unlimited");
  alice.Add("IssueWarningQuota", "1.899 GB (2,039,480,320 bytes)");
  Record bob;
  bob.Add("Name", "bob");
  bob.Add("Alias", "robert");
  bob.Add("ServerName", "mbx01");
  bob.Add("ProhibitSendQuota", "2 GB (2,147,483,648 bytes)");
  bob.Add("IssueWarningQuota", "Unlimited");
  return {alice, bob};
}

TEST(FormatListTest, AllProperties) {
  EXPECT_EQ(FormatList(TwoMailboxes()),
            "\n"
            "Name              : alice\n"
            "Alias             : alice\n"
            "ServerName        : mbx01\n"
            "ProhibitSendQuota : Unlimited\n"
            "IssueWarningQuota : 1.899 GB (2,039,480,320 bytes)\n"
            "\n"
            "Name              : bob\n"
            "Alias             : robert\n"
            "ServerName        : mbx01\n"
            "ProhibitSendQuota : 2 GB (2,147,483,648 bytes)\n"
            "IssueWarningQuota : Unlimited\n"
            "\n");
}

TEST(FormatListTest, SelectedAndWildcardProperties) {
  EXPECT_EQ(FormatList(TwoMailboxes(), {"name", "*Quota*"}),
            "\n"
            "Name              : alice\n"
            "ProhibitSendQuota : Unlimited\n"
            "IssueWarningQuota : 1.899 GB (2,039,480,320 bytes)\n"
            "\n"
            "Name              : bob\n"
            "ProhibitSendQuota : 2 GB (2,147,483,648 bytes)\n"
            "IssueWarningQuota : Unlimited\n"
            "\n");
  // Names are padded to the longest shown; missing properties are skipped.
  EXPECT_EQ(FormatList({TwoMailboxes()[0]}, {"Alias", "Name", "NoSuch", "Name"}),
            "\n"
            "Alias : alice\n"
            "Name  : alice\n"
            "\n");
}

TEST(FormatListTest, MultiLineAndEmptyValues) {
  Record r;
  r.Add("Notes", "line one\nline two");
  r.Add("Empty", "");
  EXPECT_EQ(FormatList({r}),
            "\n"
            "Notes : line one\n"
            "        line two\n"
            "Empty :\n"
            "\n");
}

TEST(FormatListTest, NothingForNoObjects) { EXPECT_EQ(FormatList({}), ""); }

TEST(FormatTableTest, DefaultColumns) {
  EXPECT_EQ(FormatTable(TwoMailboxes(), {"Name", "Alias", "ServerName", "ProhibitSendQuota"}),
            "\n"
            "Name  Alias  ServerName ProhibitSendQuota\n"
            "----  -----  ---------- -----------------\n"
            "alice alice  mbx01      Unlimited\n"
            "bob   robert mbx01      2 GB (2,147,483,648 bytes)\n"
            "\n");
}

TEST(FormatTableTest, ChosenColumnsWildcardsAndMissing) {
  EXPECT_EQ(FormatTable(TwoMailboxes(), {"name", "Issue*", "NoSuch"}),
            "\n"
            "Name  IssueWarningQuota              NoSuch\n"
            "----  -----------------              ------\n"
            "alice 1.899 GB (2,039,480,320 bytes)\n"
            "bob   Unlimited\n"
            "\n");
}

TEST(FormatTableTest, AllColumnsWhenNoneGiven) {
  Record r;
  r.Add("A", "1");
  r.Add("Bb", "22");
  EXPECT_EQ(FormatTable({r}, {}),
            "\n"
            "A Bb\n"
            "- --\n"
            "1 22\n"
            "\n");
}

TEST(FormatTableTest, CellsStayOnOneLineAndWidthsCountCharacters) {
  Record r;
  r.Add("Name", "Zo\xC3\xAB");
  r.Add("Notes", "a\nb");
  Record s;
  s.Add("Name", "Al");
  s.Add("Notes", "c");
  EXPECT_EQ(FormatTable({r, s}, {}),
            "\n"
            "Name Notes\n"
            "---- -----\n"
            "Zo\xC3\xAB  a b\n"
            "Al   c\n"
            "\n");
}

TEST(FormatTableTest, NothingForNoObjects) { EXPECT_EQ(FormatTable({}, {"Name"}), ""); }

TEST(FormatDefaultTest, UsesTheView) {
  const View table{View::Kind::kTable, {"Name"}};
  EXPECT_EQ(FormatDefault(TwoMailboxes(), table), "\nName\n----\nalice\nbob\n\n");
  const View list{View::Kind::kList, {}};
  EXPECT_EQ(FormatDefault({TwoMailboxes()[0]}, list), FormatList({TwoMailboxes()[0]}));
}

TEST(FormatValueTest, ByteQuantities) {
  EXPECT_EQ(FormatByteQuantity(0), "0 B (0 bytes)");
  EXPECT_EQ(FormatByteQuantity(512), "512 B (512 bytes)");
  EXPECT_EQ(FormatByteQuantity(884736), "864 KB (884,736 bytes)");
  EXPECT_EQ(FormatByteQuantity(524288000), "500 MB (524,288,000 bytes)");
  EXPECT_EQ(FormatByteQuantity(2147483648ull), "2 GB (2,147,483,648 bytes)");
  EXPECT_EQ(FormatByteQuantity(2039480320ull), "1.899 GB (2,039,480,320 bytes)");
  EXPECT_EQ(FormatByteQuantity(2469396480ull), "2.3 GB (2,469,396,480 bytes)");
  EXPECT_EQ(FormatByteQuantity(1099511627776ull), "1 TB (1,099,511,627,776 bytes)");
  EXPECT_EQ(FormatByteQuantity(1048575), "1023.999 KB (1,048,575 bytes)");
  EXPECT_EQ(FormatByteQuantity(1073741823), "1024 MB (1,073,741,823 bytes)");
  EXPECT_EQ(FormatQuota(0), "Unlimited");
  EXPECT_EQ(FormatQuota(1024), "1 KB (1,024 bytes)");
}

TEST(FormatValueTest, Others) {
  EXPECT_EQ(FormatThousands(0), "0");
  EXPECT_EQ(FormatThousands(999), "999");
  EXPECT_EQ(FormatThousands(1000), "1,000");
  EXPECT_EQ(FormatThousands(18446744073709551615ull), "18,446,744,073,709,551,615");
  EXPECT_EQ(FormatMultiValue({}), "{}");
  EXPECT_EQ(FormatMultiValue({"SMTP:a@x", "smtp:b@x"}), "{SMTP:a@x, smtp:b@x}");
  EXPECT_EQ(FormatBool(true), "True");
  EXPECT_EQ(FormatBool(false), "False");
}

TEST(FormatValueTest, DateTimes) {
  setenv("TZ", "UTC", 1);
  tzset();
  EXPECT_EQ(FormatDateTime(0), "");
  EXPECT_EQ(FormatDateTime(1732599372), "11/26/2024 5:36:12 AM");
  EXPECT_EQ(FormatDateTime(1732642572), "11/26/2024 5:36:12 PM");
  EXPECT_EQ(FormatDateTime(1732579200), "11/26/2024 12:00:00 AM");
}

}  // namespace
}  // namespace adminctl
