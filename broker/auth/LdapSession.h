#pragma once
// One libldap connection configured from LdapConfig (v3, timeouts, no referrals, per-handle TLS).
// Blocking; every wait is bounded by connect_timeout / operation_timeout. Unbinds on destruction.
#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "broker/config/Config.h"

typedef struct ldap LDAP;

namespace x2gojump {

struct LdapStatus {
  int code = 0;      // an LDAP result code (LDAP_SUCCESS, LDAP_INVALID_CREDENTIALS, LDAP_SERVER_DOWN...)
  std::string text;  // ldap_err2string plus the server's diagnostic message; never a password

  bool ok() const { return code == 0; }
  // True for failures of this server rather than of the request (down, timeout, TLS, busy),
  // after which the next URI is worth trying.
  bool unreachable() const;
};

struct LdapEntry {
  std::string dn;
  std::map<std::string, std::vector<std::string>> values;  // keyed by the requested attribute names
};

// The password policy verdict a bind response carried (RFC draft behera, slapo-ppolicy).
enum class PasswordPolicy { None, AccountLocked, PasswordExpired, ChangeAfterReset };

class LdapSession {
 public:
  // Creates the handle and, for ldap:// with config.starttls, performs StartTLS (the first I/O).
  // On failure *status is set and the returned session is null.
  static std::unique_ptr<LdapSession> open(const std::string& uri, const LdapConfig& config,
                                           LdapStatus* status);
  ~LdapSession();
  LdapSession(const LdapSession&) = delete;
  LdapSession& operator=(const LdapSession&) = delete;

  // Simple bind. With policy != nullptr, sends the ppolicy request control and reports the verdict.
  LdapStatus bind(const std::string& dn, std::string_view password, PasswordPolicy* policy);

  // Subtree (or base) search returning DNs and the named attributes. size_limit 0 = server default.
  // LDAP_SIZELIMIT_EXCEEDED is returned as the status with the entries received so far.
  LdapStatus search(const std::string& base, bool base_scope, const std::string& filter,
                    const std::vector<std::string>& attributes, int size_limit,
                    std::vector<LdapEntry>* entries);

 private:
  LdapSession(LDAP* ld, std::chrono::milliseconds operation_timeout)
      : ld_(ld), operation_timeout_(operation_timeout) {}
  LdapStatus status(int code) const;

  LDAP* ld_;
  std::chrono::milliseconds operation_timeout_;
};

}  // namespace x2gojump
