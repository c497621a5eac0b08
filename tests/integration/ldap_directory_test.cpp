// LdapDirectory against a real slapd (tests/fixtures/slapd-fixture.sh): passwords, groups in every
// style, ppolicy lock, filter injection, TLS, failover and the failure modes of a down/stalled server.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <regex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "broker/auth/LdapDirectory.h"
#include "tests/fixtures/Process.h"
#include "tests/fixtures/SlapdFixture.h"

namespace x2gojump {
namespace {

using test::SlapdFixture;
using Groups = std::vector<std::string>;
using Clock = std::chrono::steady_clock;

const std::string kPeople = "ou=people,dc=example,dc=org";

std::string read_log(const SlapdFixture& ldap) { return x2gojump::test::read_file(ldap.log_file()); }

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

int count(const std::string& haystack, const std::string& needle) {
  int n = 0;
  for (auto pos = haystack.find(needle); pos != std::string::npos; pos = haystack.find(needle, pos + 1)) ++n;
  return n;
}

// A loopback port that refuses connections: bound (so nobody else gets it) but never listening.
class DeadPort {
 public:
  DeadPort() {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (fd_ < 0 || bind(fd_, reinterpret_cast<sockaddr*>(&addr), len) != 0 ||
        getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      throw std::runtime_error("cannot reserve a loopback port");
    }
    port_ = ntohs(addr.sin_port);
  }
  ~DeadPort() { close(fd_); }
  std::string uri() const { return "ldap://127.0.0.1:" + std::to_string(port_); }

 private:
  int fd_ = -1;
  int port_ = 0;
};

class LdapDirectoryTest : public ::testing::Test {
 protected:
  LoginResult login(const LdapConfig& config, std::string_view user, std::string_view password) {
    return LdapDirectory(config).authenticate(user, password);
  }
  LoginResult login(std::string_view user, std::string_view password) {
    return login(ldap_.config(), user, password);
  }
  LdapConfig with_styles(std::vector<GroupStyle> styles) {
    LdapConfig c = ldap_.config();
    c.group_styles = std::move(styles);
    return c;
  }
  LdapConfig with_short_timeouts() {
    LdapConfig c = ldap_.config();
    c.connect_timeout = std::chrono::milliseconds(500);
    c.operation_timeout = std::chrono::milliseconds(500);
    return c;
  }

  SlapdFixture ldap_;
};

TEST_F(LdapDirectoryTest, CorrectPasswordOfEveryUserIsOk) {
  const std::pair<const char*, const char*> users[] = {
      {"xjalice", "alice-secret"}, {"xjbob", "bob-secret"}, {"xjcarol", "carol pässword"}, {"xjeve", "eve-secret"}};
  for (const auto& [user, password] : users) {
    LoginResult r = login(user, password);
    EXPECT_EQ(r.status, LoginStatus::Ok) << user << ": " << r.detail;
    EXPECT_EQ(r.user_dn, "uid=" + std::string(user) + "," + kPeople);
  }
}

TEST_F(LdapDirectoryTest, Utf8PasswordIsSentAsIsNotReencoded) {
  EXPECT_EQ(login("xjcarol", "carol pässword").status, LoginStatus::Ok);
  EXPECT_EQ(login("xjcarol", "carol p\xe4ssword").status, LoginStatus::BadCredentials);  // Latin-1 ä
  EXPECT_EQ(login("xjcarol", "carolpässword").status, LoginStatus::BadCredentials);
}

TEST_F(LdapDirectoryTest, EachGroupStyleAloneFindsTheSameGroups) {
  for (GroupStyle style : {GroupStyle::PosixMemberUid, GroupStyle::GroupOfNamesMember, GroupStyle::MemberOf}) {
    SCOPED_TRACE(static_cast<int>(style));
    LdapConfig c = with_styles({style});
    EXPECT_EQ(login(c, "xjalice", "alice-secret").groups, (Groups{"physics", "staff"}));
    EXPECT_EQ(login(c, "xjbob", "bob-secret").groups, (Groups{"physics"}));
    EXPECT_EQ(login(c, "xjcarol", "carol pässword").groups, (Groups{"students"}));
    LoginResult eve = login(c, "xjeve", "eve-secret");
    EXPECT_EQ(eve.status, LoginStatus::Ok);
    EXPECT_TRUE(eve.groups.empty());
  }
}

TEST_F(LdapDirectoryTest, AllStylesTogetherAreMergedSortedAndUnique) {
  LoginResult r = login("xjalice", "alice-secret");
  ASSERT_EQ(r.status, LoginStatus::Ok) << r.detail;
  EXPECT_EQ(r.groups, (Groups{"physics", "staff"}));
  EXPECT_TRUE(login("xjeve", "eve-secret").groups.empty());
}

TEST_F(LdapDirectoryTest, NoGroupStylesMeansNoGroups) {
  LoginResult r = login(with_styles({}), "xjalice", "alice-secret");
  EXPECT_EQ(r.status, LoginStatus::Ok);
  EXPECT_TRUE(r.groups.empty());
}

TEST_F(LdapDirectoryTest, LoginCaseDiffersFromUidStillFindsPosixGroups) {
  // uid matches case-insensitively, memberUid is compared exactly: the entry's spelling is used.
  LoginResult r = login(with_styles({GroupStyle::PosixMemberUid}), "XJAlice", "alice-secret");
  ASSERT_EQ(r.status, LoginStatus::Ok) << r.detail;
  EXPECT_EQ(r.groups, (Groups{"physics", "staff"}));
}

TEST_F(LdapDirectoryTest, WrongPasswordIsBadCredentialsAndNeverEchoed) {
  LoginResult r = login("xjalice", "alice-secreT");
  EXPECT_EQ(r.status, LoginStatus::BadCredentials);
  EXPECT_TRUE(contains(r.detail, "wrong password"));
  EXPECT_FALSE(contains(r.detail, "alice-secreT"));
  EXPECT_TRUE(r.groups.empty());
  EXPECT_EQ(login("xjalice", "bob-secret").status, LoginStatus::BadCredentials);
}

TEST_F(LdapDirectoryTest, UnknownUserIsBadCredentials) {
  LoginResult r = login("xjmallory", "alice-secret");
  EXPECT_EQ(r.status, LoginStatus::BadCredentials);
  EXPECT_TRUE(contains(r.detail, "no such user"));
}

TEST_F(LdapDirectoryTest, EmptyPasswordIsRejectedWithoutContactingTheServer) {
  const int connections_before = count(read_log(ldap_), " ACCEPT from");
  LoginResult r = login("xjalice", "");
  EXPECT_EQ(r.status, LoginStatus::BadCredentials);
  EXPECT_TRUE(contains(r.detail, "empty password"));
  EXPECT_EQ(login("", "alice-secret").status, LoginStatus::BadCredentials);
  // slapd logs ACCEPT before it answers anything, so a connection would already be in the log.
  EXPECT_EQ(count(read_log(ldap_), " ACCEPT from"), connections_before);
  EXPECT_EQ(count(read_log(ldap_), "BIND dn=\"uid=xjalice"), 0);
}

TEST_F(LdapDirectoryTest, LockedAccountIsAccountLocked) {
  LoginResult r = login("xjdave", "dave-secret");
  EXPECT_EQ(r.status, LoginStatus::AccountLocked);
  EXPECT_TRUE(contains(r.detail, "locked"));
  EXPECT_TRUE(r.groups.empty());
}

TEST_F(LdapDirectoryTest, PpolicyReportsTheLockEvenForAWrongPassword) {
  // slapo-ppolicy checks the lock before the password: the broker must answer the client the
  // same for AccountLocked and BadCredentials, or lock state leaks to password guessers.
  EXPECT_EQ(login("xjdave", "not-daves-password").status, LoginStatus::AccountLocked);
}

TEST_F(LdapDirectoryTest, FilterInjectionNeverAuthenticates) {
  for (const char* user : {"*", "xj*", ")(uid=*", "xjalice)(uid=*", "*)(|(uid=*", "xjalice)(|(uid=*)",
                           "xjalice\\2a", "xjalice*", "(uid=xjalice)"}) {
    LoginResult r = login(user, "alice-secret");
    EXPECT_EQ(r.status, LoginStatus::BadCredentials) << user << ": " << r.detail;
    EXPECT_TRUE(contains(r.detail, "no such user")) << user;
  }
  // Each search carried the escaped value ("*" -> "\2a"), never a wildcard.
  EXPECT_TRUE(contains(read_log(ldap_), "(uid=xj\\2A)"));
}

TEST_F(LdapDirectoryTest, AmbiguousFilterIsBadCredentials) {
  LdapConfig c = ldap_.config();
  c.user_filter = "(|(uid={user})(uid=xjbob))";
  LoginResult r = login(c, "xjalice", "alice-secret");
  EXPECT_EQ(r.status, LoginStatus::BadCredentials);
  EXPECT_TRUE(contains(r.detail, "ambiguous"));
}

TEST_F(LdapDirectoryTest, StartTlsWithTheFixtureCaWorks) {
  LdapConfig c = ldap_.config();
  c.starttls = true;
  LoginResult r = login(c, "xjalice", "alice-secret");
  EXPECT_EQ(r.status, LoginStatus::Ok) << r.detail;
  EXPECT_EQ(r.groups, (Groups{"physics", "staff"}));
  EXPECT_TRUE(contains(read_log(ldap_), "EXT oid=1.3.6.1.4.1.1466.20037"));
}

TEST_F(LdapDirectoryTest, StartTlsWithAnotherCaIsDirectoryUnavailable) {
  SlapdFixture other;  // its CA signed only its own server certificate
  LdapConfig c = ldap_.config();
  c.starttls = true;
  c.ca_file = other.ca_file();
  LoginResult r = login(c, "xjalice", "alice-secret");
  EXPECT_EQ(r.status, LoginStatus::DirectoryUnavailable);
  EXPECT_TRUE(contains(r.detail, "StartTLS"));
  // The handshake failed before any bind: the service password never crossed in plaintext.
  EXPECT_EQ(count(read_log(ldap_), "BIND dn=\"cn=sshbroker"), 0);
}

TEST_F(LdapDirectoryTest, StartTlsWithMissingCaFileIsDirectoryUnavailable) {
  LdapConfig c = ldap_.config();
  c.starttls = true;
  c.ca_file = ldap_.ca_file() + ".missing";
  EXPECT_EQ(login(c, "xjalice", "alice-secret").status, LoginStatus::DirectoryUnavailable);
}

TEST_F(LdapDirectoryTest, LdapsWorks) {
  LdapConfig c = ldap_.config();
  c.uris = {ldap_.ldaps_uri()};
  LoginResult r = login(c, "xjcarol", "carol pässword");
  EXPECT_EQ(r.status, LoginStatus::Ok) << r.detail;
  EXPECT_EQ(r.groups, (Groups{"students"}));
}

TEST_F(LdapDirectoryTest, LdapsWithAnotherCaIsDirectoryUnavailable) {
  SlapdFixture other;
  LdapConfig c = ldap_.config();
  c.uris = {ldap_.ldaps_uri()};
  c.ca_file = other.ca_file();
  EXPECT_EQ(login(c, "xjalice", "alice-secret").status, LoginStatus::DirectoryUnavailable);
}

TEST_F(LdapDirectoryTest, FailsOverFromADeadUriToTheNextOne) {
  DeadPort dead;
  LdapConfig c = ldap_.config();
  c.uris = {dead.uri(), ldap_.uri()};
  LoginResult r = login(c, "xjalice", "alice-secret");
  EXPECT_EQ(r.status, LoginStatus::Ok) << r.detail;
  EXPECT_EQ(r.groups, (Groups{"physics", "staff"}));
  // Only connection failures fail over; a wrong password is an answer.
  EXPECT_EQ(login(c, "xjalice", "wrong").status, LoginStatus::BadCredentials);
}

TEST_F(LdapDirectoryTest, FailsOverFromAStalledServer) {
  SlapdFixture stalled;
  stalled.pause();
  LdapConfig c = with_short_timeouts();
  c.uris = {stalled.uri(), ldap_.uri()};
  EXPECT_EQ(login(c, "xjalice", "alice-secret").status, LoginStatus::Ok);
}

TEST_F(LdapDirectoryTest, AllUrisDeadIsDirectoryUnavailableNamingEach) {
  DeadPort a, b;
  LdapConfig c = ldap_.config();
  c.uris = {a.uri(), b.uri()};
  LoginResult r = login(c, "xjalice", "alice-secret");
  EXPECT_EQ(r.status, LoginStatus::DirectoryUnavailable);
  EXPECT_TRUE(contains(r.detail, a.uri()));
  EXPECT_TRUE(contains(r.detail, b.uri()));
}

TEST_F(LdapDirectoryTest, StoppedServerIsDirectoryUnavailableQuickly) {
  LdapConfig c = with_short_timeouts();
  ldap_.stop();
  const auto start = Clock::now();
  LoginResult r = login(c, "xjalice", "alice-secret");
  const auto elapsed = Clock::now() - start;
  EXPECT_EQ(r.status, LoginStatus::DirectoryUnavailable);
  EXPECT_LT(elapsed, 2 * c.connect_timeout);
}

TEST_F(LdapDirectoryTest, StalledServerIsDirectoryUnavailableWithinTheOperationTimeout) {
  LdapConfig c = with_short_timeouts();
  LdapConfig tls = c;
  tls.starttls = true;
  LdapConfig ldaps = c;
  ldaps.uris = {ldap_.ldaps_uri()};
  ldap_.pause();  // TCP connects still succeed (kernel backlog); nothing ever answers
  for (const LdapConfig* config : {&c, &tls, &ldaps}) {
    const auto start = Clock::now();
    LoginResult r = login(*config, "xjalice", "alice-secret");
    const auto elapsed = Clock::now() - start;
    EXPECT_EQ(r.status, LoginStatus::DirectoryUnavailable) << config->uris[0];
    EXPECT_LT(elapsed, 2 * c.operation_timeout) << config->uris[0] << " starttls=" << config->starttls;
  }
  ldap_.resume();
  EXPECT_EQ(login(c, "xjalice", "alice-secret").status, LoginStatus::Ok);
}

TEST_F(LdapDirectoryTest, AnonymousSearchIsRefusedByTheAclAndReportedAsUnavailable) {
  // The fixture's ACL hides the whole tree from anonymous binds: slapd answers noSuchObject (32).
  // A refused search is a directory/configuration problem, not a wrong password.
  LdapConfig c = ldap_.config();
  c.bind_dn.clear();
  c.bind_password.clear();
  LoginResult r = login(c, "xjalice", "alice-secret");
  EXPECT_EQ(r.status, LoginStatus::DirectoryUnavailable);
  EXPECT_TRUE(contains(r.detail, "user search refused"));
}

TEST_F(LdapDirectoryTest, WrongServicePasswordIsDirectoryUnavailable) {
  LdapConfig c = ldap_.config();
  c.bind_password = "not-the-broker-secret";
  LoginResult r = login(c, "xjalice", "alice-secret");
  EXPECT_EQ(r.status, LoginStatus::DirectoryUnavailable);
  EXPECT_TRUE(contains(r.detail, "service bind refused"));
  EXPECT_FALSE(contains(r.detail, "not-the-broker-secret"));
}

TEST_F(LdapDirectoryTest, GroupsAreReadBoundAsTheUserOnTheSameConnection) {
  ASSERT_EQ(login("xjalice", "alice-secret").status, LoginStatus::Ok);
  const std::string log = read_log(ldap_);
  std::smatch bind;
  ASSERT_TRUE(std::regex_search(log, bind, std::regex(R"(conn=(\d+) op=(\d+) BIND dn="uid=xjalice,)")));
  const std::string conn = bind[1];
  const int bind_op = std::stoi(bind[2]);
  // The service bind and the user search happened on that same connection before the user bind,
  const std::regex service("conn=" + conn + R"( op=(\d+) BIND dn="cn=sshbroker,)");
  std::smatch s;
  ASSERT_TRUE(std::regex_search(log, s, service));
  EXPECT_LT(std::stoi(s[1]), bind_op);
  // and all three group reads came after it, so they ran with the user's identity.
  int group_reads = 0;
  const std::regex search("conn=" + conn + R"re( op=(\d+) SRCH base="([^"]*)")re");
  for (auto it = std::sregex_iterator(log.begin(), log.end(), search); it != std::sregex_iterator(); ++it) {
    const std::string base = (*it)[2];
    if (base == "ou=groups,dc=example,dc=org" || base == "uid=xjalice," + kPeople) {
      EXPECT_GT(std::stoi((*it)[1]), bind_op) << base;
      ++group_reads;
    }
  }
  EXPECT_EQ(group_reads, 3);
}

TEST_F(LdapDirectoryTest, ConcurrentLoginsOverStartTlsAllSucceed) {
  LdapConfig c = ldap_.config();
  c.starttls = true;
  const LdapDirectory directory(c);
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 10; ++i) {
        LoginResult r = directory.authenticate("xjbob", "bob-secret");
        if (r.status == LoginStatus::Ok && r.groups == std::vector<std::string>{"physics"}) ++ok;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 80);
}

}  // namespace
}  // namespace x2gojump
