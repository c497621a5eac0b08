#pragma once
// Verifies a user's password against LDAP and reads the user's groups. Blocking (libldap sync API
// with network and operation timeouts): callers run it on a worker pool, never on the event loop.
#include <string>
#include <string_view>
#include <vector>

#include "broker/config/Config.h"

namespace x2gojump {

enum class LoginStatus {
  Ok,
  BadCredentials,        // wrong password or unknown user (indistinguishable to the client)
  AccountLocked,         // ppolicy says locked/expired. slapd checks the lock before the password,
                         // so this also answers a wrong password: it reveals only "exists, locked"
  DirectoryUnavailable,  // no URI answered in time, TLS failed, or the service bind failed
  NotAuthorized,         // authenticated, but no [[pool]] allows this user from this address
                         // (set by LoginService; LdapDirectory never returns it)
};

struct LoginResult {
  LoginStatus status = LoginStatus::DirectoryUnavailable;
  std::string user_dn;
  std::vector<std::string> groups;  // group cn values, sorted, unique, from all configured styles
  std::string detail;               // for the log only (e.g. "no such user"); never a password
};

class LdapDirectory {
 public:
  explicit LdapDirectory(LdapConfig config);

  // Finds the user's DN (service bind or anonymous search with the escaped filter), binds as the
  // user with password, then reads groups. An empty password is BadCredentials, never a bind.
  // Each call uses fresh connections; tries the configured URIs in order.
  LoginResult authenticate(std::string_view user, std::string_view password) const;

  // The user's DN and groups without the user's password, for `x2gojumpctl explain`: searches
  // and reads groups with the service account (bind_dn) or anonymously, so that identity must be
  // allowed to read the group entries. Ok, BadCredentials ("no such user", ambiguous filter) or
  // DirectoryUnavailable; never checks the password policy. Fresh connections each call.
  LoginResult groups_of(std::string_view user) const;

 private:
  LdapConfig config_;
};

}  // namespace x2gojump
